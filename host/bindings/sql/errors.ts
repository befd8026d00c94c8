import { HostBindingError } from "../../../runtime/types.ts";

/** An error the guest sees and may catch: Postgres's SQLSTATE `code`, `message`, `detail`. */
export class SqlError extends Error {
  readonly code: string;
  readonly detail?: string;
  readonly hint?: string;
  constructor(message: string, code: string, extra: { detail?: string; hint?: string } = {}) {
    super(message);
    this.name = "SqlError";
    this.code = code;
    if (extra.detail !== undefined) this.detail = extra.detail;
    if (extra.hint !== undefined) this.hint = extra.hint;
  }
}

const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "57P01", "57P02", "57P03", "53300"]);

/** True when the failure is the database link, not the statement: the host's problem (502). */
export function isConnectionFailure(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  // HANGAR_DB_UNAVAILABLE: Hangar's own verdict (e.g. the embedded database's thread died).
  if (code.startsWith("08") || CONNECTION_CODES.has(code) || code === "HANGAR_DB_UNAVAILABLE") return true;
  const msg = typeof e?.message === "string" ? e.message : "";
  return !code && /Connection terminated|Client has encountered a connection error|not queryable|Cannot use a pool after calling end/i.test(msg);
}

/** Turn whatever node-postgres threw into a guest-catchable SqlError, or a HostBindingError when the link failed. */
export function toGuestError(err: unknown): Error {
  if (err instanceof SqlError || err instanceof HostBindingError) return err;
  if (isConnectionFailure(err)) {
    return new HostBindingError(`database unavailable: ${(err as Error)?.message ?? String(err)}`, "DB_UNAVAILABLE", { cause: err });
  }
  const e = err as { code?: unknown; message?: unknown; detail?: unknown; hint?: unknown } | null;
  if (typeof e?.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) {
    return new SqlError(String(e.message), e.code, {
      detail: typeof e.detail === "string" ? e.detail : undefined,
      hint: typeof e.hint === "string" ? e.hint : undefined,
    });
  }
  return new HostBindingError(`sql binding failed: ${(err as Error)?.message ?? String(err)}`, "SQL_HOST_FAILED", { cause: err });
}
