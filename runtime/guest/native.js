// Host-provided synchronous functions, captured once and removed from the global.
export const native = globalThis.__hangar_native;
delete globalThis.__hangar_native;

// captured now: guest code may replace or delete the global eval later
const indirectEval = globalThis.eval;
/** Evaluate a library embedded as source text (see prelude.ts); returns its exports. */
export function evalLib(source) { return indirectEval(source); }

export function bytesOf(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

/** A fresh ArrayBuffer holding exactly these bytes (natives take whole buffers). */
export function bufferOf(bytes) {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes.buffer;
  return bytes.slice().buffer;
}
