// A copy of a QuickJS module's linear memory, sparse: only the 4 KiB chunks
// that hold something. The prelude (base) image is one of these; a version's
// image is a block diff on top of it (diff.ts). Restoring writes the chunks
// into a fresh module of the same build; chunks a fresh module has dirtied and
// the image does not hold are zeroed, so the result is byte for byte the
// captured memory.
export const CHUNK = 4096;
const WORDS = CHUNK / 8;

export interface MemoryImage {
  /** Bytes of memory the image needs. */
  bytes: number;
  /** Chunk indexes held, ascending. */
  chunks: Uint32Array;
  /** The held chunks' contents, CHUNK bytes each, in the order of `chunks`. */
  data: Uint8Array;
}

function isZero(w: BigUint64Array, at: number): boolean {
  for (let i = at; i < at + WORDS; i++) if (w[i] !== 0n) return false;
  return true;
}

/**
 * Capture `memory`: the chunks that are not all zero. `gap` is a byte range
 * known never to be written (the C stack no code reaches): not read at all,
 * since reading a page can make the system back it with real memory.
 */
export function captureMemory(memory: WebAssembly.Memory, gap?: [number, number]): MemoryImage {
  const u8 = new Uint8Array(memory.buffer);
  const w = new BigUint64Array(memory.buffer);
  const held: number[] = [];
  const [skipFrom, skipTo] = gap ? [Math.ceil(gap[0] / CHUNK), Math.floor(gap[1] / CHUNK)] : [0, 0];
  for (let c = 0; c < u8.byteLength / CHUNK; c++) if ((c < skipFrom || c >= skipTo) && !isZero(w, c * WORDS)) held.push(c);
  const chunks = Uint32Array.from(held);
  const data = new Uint8Array(chunks.length * CHUNK);
  chunks.forEach((c, i) => data.set(u8.subarray(c * CHUNK, (c + 1) * CHUNK), i * CHUNK));
  return { bytes: u8.byteLength, chunks, data };
}

/** Chunk indexes a fresh module of this build has written (data segments, start-up code). */
export function dirtyChunks(memory: WebAssembly.Memory, gap?: [number, number]): Uint32Array {
  return captureMemory(memory, gap).chunks;
}

function copyRuns(u8: Uint8Array, img: MemoryImage): void {
  const { chunks, data } = img;
  for (let i = 0; i < chunks.length; ) {
    let j = i + 1;
    while (j < chunks.length && chunks[j] === chunks[j - 1] + 1) j++;
    u8.set(data.subarray(i * CHUNK, j * CHUNK), chunks[i] * CHUNK);
    i = j;
  }
}

/**
 * What a module about to receive an image may hold besides zeros: the chunks
 * a fresh module has written, or (a module used before) chunk ranges [from, to).
 */
export type Dirty = { chunks: Uint32Array } | { ranges: [number, number][] };

/**
 * Write `img` into a module's memory (already `img.bytes` large) so that it
 * equals the captured memory; chunks in `written` are left for the caller to
 * write whole (not cleared here).
 */
export function restoreMemory(memory: WebAssembly.Memory, img: MemoryImage, dirty: Dirty, written?: Uint32Array): Uint8Array {
  const u8 = new Uint8Array(memory.buffer);
  if (u8.byteLength < img.bytes) throw new RangeError(`memory of ${u8.byteLength} bytes is smaller than the image (${img.bytes})`);
  const held = new Uint8Array(u8.byteLength / CHUNK);
  for (const c of img.chunks) held[c] = 1;
  if (written) for (const c of written) held[c] = 1;
  const clear = (c: number) => { if (!held[c]) u8.fill(0, c * CHUNK, (c + 1) * CHUNK); };
  if ("chunks" in dirty) for (const c of dirty.chunks) clear(c);
  else for (const [from, to] of dirty.ranges) for (let c = from; c < Math.min(to, held.length); c++) clear(c);
  copyRuns(u8, img);
  return u8;
}
