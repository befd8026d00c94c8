// Named errors of the runtime layer, each with a stable code.

/** Evaluating a bundle threw or exceeded a limit; `stack` is the guest's. */
export class BundleEvalError extends Error {
  readonly code = "BUNDLE_EVAL_FAILED";
  /** Which limit stopped the evaluation, when one did. */
  readonly kind: string;
  constructor(message: string, options: { stack?: string; kind?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "BundleEvalError";
    this.kind = options.kind ?? "threw";
    if (options.stack) this.stack = `${this.name}: ${message}\n${options.stack}`;
  }
}

/**
 * The reason host calls of an ended invocation are aborted with: one shared
 * object, since an AbortController's default reason is a new DOMException per
 * abort (about 30 us each, at the end of every invocation that made a host call).
 */
export const INVOCATION_ENDED: Error = Object.freeze(Object.assign(new Error("the invocation ended"), { name: "AbortError" }));

/** The runtime or instance was closed. */
export class RuntimeClosedError extends Error {
  readonly code = "RUNTIME_CLOSED";
  constructor(what = "runtime") {
    super(`the ${what} is closed`);
    this.name = "RuntimeClosedError";
  }
}

/** Normalise anything thrown into an Error. */
export function coerceError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new Error(typeof e === "string" ? e : `non-error thrown: ${String(e)}`, { cause: e });
}
