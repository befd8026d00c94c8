// The HTTP mapping of an invocation's neutral result (host/invoke knows no statuses).
import type { InvokeErrorKind, InvokeResult } from "../invoke/types.ts";
import { sanitizeFraming } from "./framing.ts";

/** HTTP status for each way an invocation can fail (SPEC §5). */
export const FAILURE_STATUS: Record<InvokeErrorKind, number> = {
  threw: 500,
  "no-handler": 500,
  "bad-response": 500,
  host: 502,
  wall: 504,
  cpu: 546,
  memory: 546,
  stack: 546,
  restarted: 503,
  "not-found": 404,
  concurrency: 503,
  "memory-budget": 503,
  "too-large": 413,
  internal: 500,
};

/** What an unexpected host error says in production: nothing of the server's internals. */
export const INTERNAL_MESSAGE = "an internal error occurred; the request id identifies it in the server's logs";

/**
 * What an uncaught guest error says in production (SPEC §5): its message may
 * carry Postgres error text or the function's internals, so it stays in the
 * invocation log; the client gets the code and the request id. Host binding
 * failures (502) keep their message: Hangar wrote it, and it names the cap or
 * the outage the caller ran into.
 */
export const HIDDEN_MESSAGE: Partial<Record<InvokeErrorKind, string>> = {
  threw: "the function threw; the invocation log has its message under this request id",
};

/** The status the client gets for `r`. */
export function statusOf(r: InvokeResult): number {
  return r.error ? FAILURE_STATUS[r.error.kind] : r.response?.status ?? 200;
}

export interface ResultOptions {
  /** dev: guest stacks and host error details in error bodies. */
  expose?: boolean;
}

/** The response for `r`: the guest's (framing headers dropped), or the error JSON of SPEC §5. */
export function responseOf(r: InvokeResult, opts: ResultOptions = {}): Response {
  const e = r.error;
  if (!e) return sanitizeFraming(r.response ?? new Response(null, { status: 204 }));
  const message = opts.expose ? e.message : e.kind === "internal" ? INTERNAL_MESSAGE : HIDDEN_MESSAGE[e.kind] ?? e.message;
  const stack = opts.expose && e.stack ? { stack: e.stack } : {};
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (e.retryAfterS !== undefined) headers["retry-after"] = String(e.retryAfterS);
  return new Response(JSON.stringify({ error: { code: e.code, message, requestId: r.requestId, ...stack } }), { status: FAILURE_STATUS[e.kind], headers });
}
