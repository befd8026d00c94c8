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
  const value = JSON.parse(json);
  // Tags and escaped keys all start with NUL, which JSON text spells \u0000: without one, the plain parse is the answer.
  return json.includes("\\u0000") ? revive(value, buffers) : value;
}

function revive(v: unknown, buffers: Uint8Array[]): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = revive(v[i], buffers);
    return v;
  }
  const o = v as Record<string, unknown>;
  const t = o[TAG];
  if (t === "d") return new Date(o.v === null ? NaN : (o.v as number));
  if (t === "b") return buffers[o.i as number] ?? new Uint8Array(0);
  if (!hasNulKey(o)) {
    for (const k of Object.keys(o)) o[k] = revive(o[k], buffers);
    return o;
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) out[k.charCodeAt(0) === 0 ? k.slice(1) : k] = revive(o[k], buffers);
  return out;
}
