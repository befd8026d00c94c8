// Async host calls: the host answers later through settle(); errors keep code/detail.
import { native } from "./native.js";
import { encode, decode } from "./marshal.js";

export const HOST_ERROR = Symbol("hangar.hostBindingError");
const pending = new Map();

export function toError(info) {
  const e = new Error(String(info.message));
  if (info.name && info.name !== "Error") Object.defineProperty(e, "name", { value: String(info.name), configurable: true, writable: true });
  if (info.code !== undefined && info.code !== null) e.code = info.code;
  if (info.detail !== undefined && info.detail !== null) e.detail = info.detail;
  if (info.host) Object.defineProperty(e, HOST_ERROR, { value: true });
  return e;
}

/** Call host function `name` with JSON-like args; resolves with its JSON-like result. */
export function hostCall(name, args) {
  let json, buffers;
  try { [json, buffers] = encode(args); } catch (e) { return Promise.reject(e); }
  const id = native.hostCall(String(name), json, ...buffers);
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}

/** Called by the host when call `id` finished. */
export function settle(id, ok, json, ...buffers) {
  const p = pending.get(id);
  if (!p) return;
  pending.delete(id);
  let value;
  try { value = decode(json, buffers); } catch (e) { p.reject(e); return; }
  if (ok) p.resolve(value);
  else p.reject(toError(value));
}

/** The host dropped these calls (their invocation ended): forget their promises. */
export function dropCalls(ids) { for (const id of ids) pending.delete(id); }
