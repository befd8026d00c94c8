// Host-provided synchronous functions, captured once and removed from the global.
import { bytesOf } from "../contract.js";

export { bytesOf };
export const native = globalThis.__hangar_native;
delete globalThis.__hangar_native;

// captured now: guest code may replace or delete the global eval later
const indirectEval = globalThis.eval;
/** Evaluate a library embedded as source text (see prelude.ts); returns its exports. */
export function evalLib(source) { return indirectEval(source); }

/** A fresh ArrayBuffer holding exactly these bytes (natives take whole buffers). */
export function bufferOf(bytes) {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes.buffer;
  return bytes.slice().buffer;
}

/**
 * The guest's side of the value codec (runtime/contract.js): natives take
 * whole ArrayBuffers, and the host hands ArrayBuffers in.
 * @type {import("../contract.js").Wire<ArrayBuffer>}
 */
export const WIRE = { out: bufferOf, in: (buffer) => new Uint8Array(buffer) };
