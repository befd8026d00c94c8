// Guest-visible fetch errors: thrown from the binding, they surface in the
// guest as an Error with the same `code` (and `detail`), which it may catch.
// These are deliberately not HostBindingError: a refused or failed fetch is
// the guest's outcome to handle, not a host fault.

export type FetchErrorCode =
  | "EGRESS_DENIED"      // scheme, host or address refused by policy
  | "FETCH_INVALID"      // malformed request data from the guest
  | "FETCH_FAILED"       // network / protocol failure
  | "FETCH_TIMEOUT"      // policy timeoutMs elapsed
  | "FETCH_ABORTED"      // the invocation ended
  | "FETCH_REDIRECT"     // redirect: "error" met a redirect, or too many redirects
  | "REQUEST_TOO_LARGE"
  | "RESPONSE_TOO_LARGE"
  | "SUBREQUEST_LIMIT";  // more requests sent (redirect hops included) than the function's limit

export class FetchError extends Error {
  readonly code: FetchErrorCode;
  readonly detail?: string;
  constructor(code: FetchErrorCode, message: string, options?: { cause?: unknown; detail?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "FetchError";
    this.code = code;
    if (options?.detail !== undefined) this.detail = options.detail;
  }
}

/** A refusal naming the host and why. */
export function egressDenied(host: string, why: string): FetchError {
  return new FetchError("EGRESS_DENIED", `fetch to ${host} refused: ${why}`);
}

/** The first FetchError in an error's cause chain (undici wraps connect errors). */
export function findFetchError(err: unknown): FetchError | null {
  for (let e: unknown = err, i = 0; e != null && i < 8; i++) {
    if (e instanceof FetchError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/** Innermost message of a cause chain, for a useful FETCH_FAILED text. */
export function rootMessage(err: unknown): string {
  let msg = err instanceof Error ? err.message : String(err);
  for (let e: unknown = err, i = 0; e != null && i < 8; i++) {
    if (e instanceof Error) {
      const code = (e as { code?: unknown }).code;
      msg = typeof code === "string" ? `${code}: ${e.message}` : e.message;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return msg;
}
