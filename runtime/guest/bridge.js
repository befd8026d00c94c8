// Async host calls: the host answers later through settle(); errors keep code/detail.
import { native, WIRE } from "./native.js";
import { encode, decode } from "../contract.js";

export const HOST_ERROR = Symbol("hangar.hostBindingError");
const pending = new Map();

// Identity: the invocation on whose behalf guest code runs now. The host sets
// it for each run segment and reads it when a host call, timer or console line
// is made; promise reactions keep the identity of the code that registered
// them (async/await is lowered to .then at bundle time), so a promise shared
// by two invocations resumes each of them as itself. The host takes the cell
// from the global below and deletes the global before any function code runs.
const identity = { inv: 0 };
Object.defineProperty(globalThis, "__hangar_identity", { value: identity, configurable: true });
const then = Promise.prototype.then;
function as(inv, fn) {
  return function (v) {
    const prev = identity.inv;
    identity.inv = inv;
    try { return fn(v); } finally { identity.inv = prev; }
  };
}
Object.defineProperty(Promise.prototype, "then", {
  value: function then_(onFulfilled, onRejected) {
    const inv = identity.inv;
    return then.call(this, typeof onFulfilled === "function" ? as(inv, onFulfilled) : onFulfilled, typeof onRejected === "function" ? as(inv, onRejected) : onRejected);
  },
  writable: false,
  configurable: false,
});

export function toError(info) {
  /** @type {Error & { code?: unknown, detail?: unknown }} */
  const e = new Error(String(info.message));
  if (info.name && info.name !== "Error") Object.defineProperty(e, "name", { value: String(info.name), configurable: true, writable: true });
  if (info.code !== undefined && info.code !== null) e.code = info.code;
  if (info.detail !== undefined && info.detail !== null) e.detail = info.detail;
  if (info.host) Object.defineProperty(e, HOST_ERROR, { value: true });
  return e;
}

/**
 * Call host function `name` with JSON-like args; resolves with its JSON-like result.
 * @param {import("../contract.js").HostFunctionName} name
 * @param {unknown[]} args
 * @returns {Promise<any>}
 */
export function hostCall(name, args) {
  let json, buffers;
  try { [json, buffers] = encode(args, WIRE); } catch (e) { return Promise.reject(e); }
  const id = native.hostCall(String(name), json, ...buffers);
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}

/** Called by the host when call `id` finished. */
export function settle(id, ok, json, ...buffers) {
  const p = pending.get(id);
  if (!p) return;
  pending.delete(id);
  let value;
  try { value = decode(json, buffers, WIRE); } catch (e) { p.reject(e); return; }
  if (ok) p.resolve(value);
  else p.reject(toError(value));
}

/**
 * The host dropped these calls (their invocation ended): whoever still awaits
 * one (another invocation sharing the promise) is told so, not left hanging.
 */
export function dropCalls(ids) {
  for (const id of ids) {
    const p = pending.get(id);
    pending.delete(id);
    if (p) p.reject(Object.assign(new Error("Cannot perform I/O on behalf of a different request: the invocation that started this call has ended"), { code: "CROSS_REQUEST_IO" }));
  }
}
