// A copy of a QuickJS module's linear memory, sparse: only the 4 KiB chunks
// that hold something (or, for an image made on top of a base image, only the
// chunks that differ from it). Restoring writes those chunks into a fresh
// module of the same build; chunks a fresh module has dirtied and the image
// does not hold are zeroed, so the result is byte for byte the captured memory.
export const CHUNK = 4096;
const WORDS = CHUNK / 8;

export interface MemoryImage {
  /** Bytes of memory the image needs. */
  bytes: number;
  /** Chunk indexes held, ascending. */
  chunks: Uint32Array;
  /** The held chunks' contents, CHUNK bytes each, in the order of `chunks`. */
  data: Uint8Array;
  /** The image this one was captured on top of: restored first. */
  base?: MemoryImage;
}

function words(buf: ArrayBufferLike, byteOffset = 0, length?: number): BigUint64Array {
  return new BigUint64Array(buf, byteOffset, length ?? (buf.byteLength - byteOffset) / 8);
}

function isZero(w: BigUint64Array, at: number): boolean {
  for (let i = at; i < at + WORDS; i++) if (w[i] !== 0n) return false;
  return true;
}

function sameAs(w: BigUint64Array, at: number, b: BigUint64Array, bAt: number): boolean {
  for (let i = 0; i < WORDS; i++) if (w[at + i] !== b[bAt + i]) return false;
  return true;
}

/** Where each chunk of `img` (including its bases) lives, by chunk index: [image, slot]. */
function locate(img: MemoryImage): Map<number, [MemoryImage, number]> {
  const at = img.base ? locate(img.base) : new Map<number, [MemoryImage, number]>();
  img.chunks.forEach((c, slot) => at.set(c, [img, slot]));
  return at;
}

/**
 * Capture `memory`; with a base, only what differs from it. `gap` is a byte
 * range known never to be written (the C stack no code reaches): not read at
 * all, since reading a page can make the system back it with real memory.
 */
export function captureMemory(memory: WebAssembly.Memory, base?: MemoryImage, gap?: [number, number]): MemoryImage {
  const u8 = new Uint8Array(memory.buffer);
  return packMemory({ bytes: u8.byteLength, chunks: scanMemory(memory, base, gap), source: u8 }, base);
}

/** Copy scanned chunks out of the live memory into an image. */
export function packMemory(m: { bytes: number; chunks: Uint32Array; source: Uint8Array }, base?: MemoryImage): MemoryImage {
  const data = new Uint8Array(m.chunks.length * CHUNK);
  m.chunks.forEach((c, i) => data.set(m.source.subarray(c * CHUNK, (c + 1) * CHUNK), i * CHUNK));
  return { bytes: m.bytes, chunks: m.chunks, data, base };
}

/** The chunks captureMemory would hold, without copying them. */
export function scanMemory(memory: WebAssembly.Memory, base?: MemoryImage, gap?: [number, number]): Uint32Array {
  const buf = memory.buffer;
  const w = words(buf);
  const n = buf.byteLength / CHUNK;
  const known = base ? locate(base) : undefined;
  const held: number[] = [];
  const [skipFrom, skipTo] = gap ? [Math.ceil(gap[0] / CHUNK), Math.floor(gap[1] / CHUNK)] : [0, 0];
  for (let c = 0; c < n; c++) {
    if (c >= skipFrom && c < skipTo) continue;
    const at = c * WORDS;
    const prev = known?.get(c);
    if (prev) {
      const [img, slot] = prev;
      if (sameAs(w, at, words(img.data.buffer, img.data.byteOffset + slot * CHUNK, WORDS), 0)) continue;
      held.push(c); // changed, or cleared: either way the base's copy is wrong
    } else if (!isZero(w, at)) held.push(c);
  }
  return Uint32Array.from(held);
}

/** Chunk indexes a fresh module of this build has written (data segments, start-up code). */
export function dirtyChunks(memory: WebAssembly.Memory, gap?: [number, number]): Uint32Array {
  return captureMemory(memory, undefined, gap).chunks;
}

/** Total chunks an image restores (with its bases). */
export function chunkCount(img: MemoryImage): number {
  return img.chunks.length + (img.base ? chunkCount(img.base) : 0);
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

/** Write `img` into a module's memory (already `img.bytes` large) so that it equals the captured memory. */
export function restoreMemory(memory: WebAssembly.Memory, img: MemoryImage, dirty: Dirty): void {
  const u8 = new Uint8Array(memory.buffer);
  if (u8.byteLength < img.bytes) throw new RangeError(`memory of ${u8.byteLength} bytes is smaller than the image (${img.bytes})`);
  const held = new Uint8Array(u8.byteLength / CHUNK);
  for (let i: MemoryImage | undefined = img; i; i = i.base) for (const c of i.chunks) held[c] = 1;
  const clear = (c: number) => { if (!held[c]) u8.fill(0, c * CHUNK, (c + 1) * CHUNK); };
  if ("chunks" in dirty) for (const c of dirty.chunks) clear(c);
  else for (const [from, to] of dirty.ranges) for (let c = from; c < Math.min(to, held.length); c++) clear(c);
  const chain: MemoryImage[] = [];
  for (let i: MemoryImage | undefined = img; i; i = i.base) chain.unshift(i);
  for (const i of chain) copyRuns(u8, i);
}
