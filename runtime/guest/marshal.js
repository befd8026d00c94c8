// JSON-like values plus Date and Uint8Array across the boundary.
// Wire format: JSON text plus a list of ArrayBuffers; tags are objects with
// the key "\u0000t"; user keys starting with "\u0000" get one more "\u0000".
import { bytesOf, bufferOf } from "./native.js";

const TAG = "\u0000t";

// The interpreter pays dearly for a JSON.stringify replacer or JSON.parse
// reviver (one guest call per key), so values are walked by hand, and only
// where a Date, bytes, a bigint or a NUL-led key makes a copy necessary.

/** A JSON-ready copy of `v` (or `v` itself when nothing in it needs a tag). */
function prepare(v, buffers, seen) {
  if (v === null || typeof v !== "object") return typeof v === "bigint" ? v.toString() : v;
  if (v instanceof Date) { const t = v.getTime(); return { [TAG]: "d", v: Number.isNaN(t) ? null : t }; }
  if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
    buffers.push(bufferOf(bytesOf(v)));
    return { [TAG]: "b", i: buffers.length - 1 };
  }
  if (typeof v.toJSON === "function") return prepare(v.toJSON(), buffers, seen);
  if (seen.has(v)) throw new TypeError("cyclic object value");
  seen.add(v);
  let out = v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = prepare(v[i], buffers, seen);
      if (p !== v[i]) { if (out === v) out = v.slice(); out[i] = p; }
    }
  } else {
    const keys = Object.keys(v);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const x = v[k];
      const p = prepare(x, buffers, seen);
      const nul = k.charCodeAt(0) === 0;
      if (p !== x || nul) {
        if (out === v) { out = {}; for (let j = 0; j < i; j++) out[keys[j]] = v[keys[j]]; }
      }
      if (out !== v) out[nul ? "\u0000" + k : k] = p;
    }
  }
  seen.delete(v);
  return out;
}

export function encode(value) {
  const buffers = [];
  const json = JSON.stringify(prepare(value === undefined ? null : value, buffers, new Set()));
  return [json === undefined ? "null" : json, buffers];
}

function revive(v, buffers) {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = revive(v[i], buffers);
    return v;
  }
  const t = v[TAG];
  if (t === "d") return new Date(v.v === null ? NaN : v.v);
  if (t === "b") return new Uint8Array(buffers[v.i]);
  const keys = Object.keys(v);
  let nul = false;
  for (let i = 0; i < keys.length; i++) if (keys[i].charCodeAt(0) === 0) { nul = true; break; }
  if (!nul) {
    for (let i = 0; i < keys.length; i++) v[keys[i]] = revive(v[keys[i]], buffers);
    return v;
  }
  const out = {};
  for (let i = 0; i < keys.length; i++) { const k = keys[i]; out[k.charCodeAt(0) === 0 ? k.slice(1) : k] = revive(v[k], buffers); }
  return out;
}

export function decode(json, buffers) {
  const value = JSON.parse(json);
  // Tags and escaped keys start with NUL, which JSON text spells \u0000.
  return json.indexOf("\\u0000") === -1 ? value : revive(value, buffers);
}
