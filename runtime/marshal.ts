// Host side of the wire format in guest/marshal.js: JSON text plus ArrayBuffers;
// tags are objects keyed "\u0000t" (d: Date, b: bytes); user keys starting with
// "\u0000" carry one extra "\u0000".

const TAG = "\u0000t";

function hasNulKey(o: object): boolean {
  for (const k of Object.keys(o)) if (k.charCodeAt(0) === 0) return true;
  return false;
}

/** Encode a JSON-like host value for the guest. */
export function encodeValue(value: unknown): { json: string; buffers: Uint8Array[] } {
  const buffers: Uint8Array[] = [];
  const json = JSON.stringify(value === undefined ? null : value, function (this: Record<string, unknown>, key, v) {
    const orig = this[key];
    if (orig instanceof Date) {
      const t = orig.getTime();
      return { [TAG]: "d", v: Number.isNaN(t) ? null : t };
    }
    if (orig instanceof ArrayBuffer || ArrayBuffer.isView(orig)) {
      const view = orig instanceof ArrayBuffer ? new Uint8Array(orig) : new Uint8Array(orig.buffer, orig.byteOffset, orig.byteLength);
      buffers.push(view);
      return { [TAG]: "b", i: buffers.length - 1 };
    }
    if (typeof v === "bigint") return v.toString();
    if (v !== null && typeof v === "object" && !Array.isArray(v) && hasNulKey(v)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) out[k.charCodeAt(0) === 0 ? "\u0000" + k : k] = (v as Record<string, unknown>)[k];
      return out;
    }
    return v;
  });
  return { json: json ?? "null", buffers };
}

/** Decode a guest value (plain data only: objects get Object.prototype of the host). */
export function decodeValue(json: string, buffers: Uint8Array[]): unknown {
  return JSON.parse(json, (_key, v) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const t = v[TAG];
    if (t === "d") return new Date(v.v === null ? NaN : v.v);
    if (t === "b") return buffers[v.i] ?? new Uint8Array(0);
    if (!hasNulKey(v)) return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k.charCodeAt(0) === 0 ? k.slice(1) : k] = v[k];
    return out;
  });
}
