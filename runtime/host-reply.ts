// A host call's arguments and answer as they cross to and from the guest: the
// codec's JSON text plus its buffers (runtime/contract.js). A sandbox thread
// hands the guest's encoded arguments to the main thread as they are and gets
// the answer back encoded, so the values are turned into text once, where the
// host function runs, and cross between threads as one string (a 100-row
// result was 400 structured-clone values each way, then encoded again on the
// sandbox thread).
import { encode, type Wire } from "./contract.js";
import { INVOCATION_ENDED } from "./errors.ts";
import { HostBindingError, type HostCallInfo, type HostReply } from "./types.ts";

export type { HostReply };

/** The host's side of the value codec: views go out as they are (the instance copies them into the guest), Uint8Arrays come in. */
export const WIRE: Wire<Uint8Array> = { out: (bytes) => bytes, in: (buffer) => buffer ?? new Uint8Array(0) };

/** What the guest learns of a failed host call: name, message, code, detail, and whether the host itself failed. */
export function errorInfo(e: unknown): Record<string, unknown> {
  const err = e as { name?: unknown; message?: unknown; code?: unknown; detail?: unknown } | null;
  const host = e instanceof HostBindingError || (err !== null && typeof err === "object" && err.name === "HostBindingError");
  if (err === null || typeof err !== "object") return { name: "Error", message: String(e), host: false };
  return {
    name: typeof err.name === "string" ? err.name : "Error",
    message: typeof err.message === "string" ? err.message : String(e),
    code: typeof err.code === "string" || typeof err.code === "number" ? err.code : undefined,
    detail: typeof err.detail === "string" ? err.detail : undefined,
    host,
  };
}

/** `value` encoded for the guest; a value the codec refuses (a cycle) fails the call instead. */
export function hostReply(ok: boolean, value: unknown): HostReply {
  try {
    const [json, buffers] = encode(value, WIRE);
    return { ok, json, buffers };
  } catch (e) {
    const [json, buffers] = encode(errorInfo(e), WIRE);
    return { ok: false, json, buffers };
  }
}

/**
 * What a host function is told about its call. The signal, aborted when the
 * invocation ends, is made on first read: only fetch reads it, and an
 * AbortController costs about 6 us to make and as much again to abort, on
 * every invocation that calls the host. A class, so the getter is shared
 * (on an object literal each call's object would get its own hidden class).
 */
class CallInfo implements HostCallInfo {
  readonly #inv: { controller?: AbortController; ended: boolean };

  constructor(readonly requestId: string, inv: { controller?: AbortController; ended: boolean }) {
    this.#inv = inv;
  }

  get signal(): AbortSignal {
    const inv = this.#inv;
    if (!inv.controller) {
      inv.controller = new AbortController();
      if (inv.ended) inv.controller.abort(INVOCATION_ENDED);
    }
    return inv.controller.signal;
  }
}

export function callInfo(requestId: string, inv: { controller?: AbortController; ended: boolean }): HostCallInfo {
  return new CallInfo(requestId, inv);
}
