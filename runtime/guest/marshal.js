// JSON-like values plus Date and Uint8Array across the boundary.
// Wire format: JSON text plus a list of ArrayBuffers; tags are objects with
// the key "\u0000t"; user keys starting with "\u0000" get one more "\u0000".
import { bytesOf, bufferOf } from "./native.js";

const TAG = "\u0000t";

function escapeKeys(obj) {
  let needs = false;
  for (const k of Object.keys(obj)) if (k.charCodeAt(0) === 0) { needs = true; break; }
  if (!needs) return obj;
  const out = {};
  for (const k of Object.keys(obj)) out[k.charCodeAt(0) === 0 ? "\u0000" + k : k] = obj[k];
  return out;
}

export function encode(value) {
  const buffers = [];
  const json = JSON.stringify(value === undefined ? null : value, function (key, v) {
    const orig = this[key];
    if (orig instanceof Date) { const t = orig.getTime(); return { [TAG]: "d", v: Number.isNaN(t) ? null : t }; }
    if (orig instanceof ArrayBuffer || ArrayBuffer.isView(orig)) {
      buffers.push(bufferOf(bytesOf(orig)));
      return { [TAG]: "b", i: buffers.length - 1 };
    }
    if (typeof v === "bigint") return v.toString();
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      return escapeKeys(v);
    }
    return v;
  });
  return [json, buffers];
}

export function decode(json, buffers) {
  return JSON.parse(json, (key, v) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const t = v[TAG];
    if (t === "d") return new Date(v.v === null ? NaN : v.v);
    if (t === "b") return new Uint8Array(buffers[v.i]);
    let needs = false;
    for (const k of Object.keys(v)) if (k.charCodeAt(0) === 0) { needs = true; break; }
    if (!needs) return v;
    const out = {};
    for (const k of Object.keys(v)) out[k.charCodeAt(0) === 0 ? k.slice(1) : k] = v[k];
    return out;
  });
}
