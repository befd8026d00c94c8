// A version's memory as a block diff against the prelude (base) image: most
// pages a bundle's evaluation writes are prelude pages where a few words
// changed (reference counts, shape links), so a page is split into BLOCK-byte
// blocks and only the blocks that differ are kept. Per page two bit masks say
// which blocks are carried (their bytes follow) and which became all zero
// (nothing follows). A page the base does not hold is diffed against zeros.
// Restoring is the base image, then the blocks written over it.
import { CHUNK, restoreMemory, type Dirty, type MemoryImage } from "./image.ts";

/** Bytes per block (measured: bench/RESULTS.md, cold). */
export const BLOCK = 64;
const PER_PAGE = CHUNK / BLOCK;
const BLOCK_INTS = BLOCK / 4;
/** 32-bit words per mask; a page has two masks (carried, zeroed). */
export const MASK_WORDS = Math.ceil(PER_PAGE / 32);

/** A block diff on top of `base`. */
export interface DiffImage {
  /** Bytes of memory the image needs. */
  bytes: number;
  base: MemoryImage;
  /** Pages that differ from the base, ascending. */
  pages: Uint32Array;
  /** Per page (in the order of `pages`): MASK_WORDS words of carried blocks, then MASK_WORDS of zeroed blocks. */
  masks: Uint32Array;
  /** The carried blocks, BLOCK bytes each, page by page, block by block. */
  data: Uint8Array;
}

/** A diff found in live memory, its blocks not copied yet: `source` is that memory. */
export interface ScannedDiff extends Omit<DiffImage, "data" | "base"> {
  /** Carried blocks in all. */
  blocks: number;
  source: Uint8Array;
}

/** Slot of each base page in base.data, by page index (-1: not held); made once per base. */
const slots = new WeakMap<MemoryImage, Int32Array>();
function slotsOf(base: MemoryImage): Int32Array {
  let s = slots.get(base);
  if (!s) {
    s = new Int32Array(base.bytes / CHUNK).fill(-1);
    base.chunks.forEach((c, i) => { s![c] = i; });
    slots.set(base, s);
  }
  return s;
}

/**
 * The blocks of `memory` that differ from `base` (pages it does not hold:
 * from zeros). `gap` is a byte range never written (the C stack no code
 * reaches): not read, since reading a page can make the system back it.
 */
export function scanDiff(memory: WebAssembly.Memory | Uint8Array, base: MemoryImage, gap?: [number, number]): ScannedDiff {
  // a copy of a memory is its bytes from offset 0
  const source = memory instanceof Uint8Array ? memory : new Uint8Array(memory.buffer);
  const mem = new Int32Array(source.buffer, source.byteOffset, source.byteLength >>> 2);
  const ref = new Int32Array(base.data.buffer, base.data.byteOffset, base.data.byteLength / 4);
  const slot = slotsOf(base);
  const n = source.byteLength / CHUNK;
  const [skipFrom, skipTo] = gap ? [Math.ceil(gap[0] / CHUNK), Math.floor(gap[1] / CHUNK)] : [0, 0];
  const pages: number[] = [];
  const masks: number[] = [];
  const mask = new Uint32Array(2 * MASK_WORDS);
  let blocks = 0;
  for (let p = 0; p < n; p++) {
    if (p >= skipFrom && p < skipTo) continue;
    const s = p < slot.length ? slot[p] : -1;
    mask.fill(0);
    let any = false;
    for (let b = 0; b < PER_PAGE; b++) {
      const at = (p * PER_PAGE + b) * BLOCK_INTS;
      // most blocks equal the base (or stay zero): compared word by word until one differs
      let i = 0;
      if (s < 0) while (i < BLOCK_INTS && mem[at + i] === 0) i++;
      else {
        const from = s * (CHUNK / 4) + b * BLOCK_INTS;
        while (i < BLOCK_INTS && mem[at + i] === ref[from + i]) i++;
      }
      if (i === BLOCK_INTS) continue;
      any = true;
      let zero = s >= 0;
      for (let j = 0; zero && j < BLOCK_INTS; j++) if (mem[at + j] !== 0) zero = false;
      if (zero) mask[MASK_WORDS + (b >>> 5)] |= 1 << (b & 31);
      else { mask[b >>> 5] |= 1 << (b & 31); blocks++; }
    }
    if (!any) continue;
    pages.push(p);
    for (const w of mask) masks.push(w);
  }
  return { bytes: source.byteLength, pages: Uint32Array.from(pages), masks: Uint32Array.from(masks), blocks, source };
}

/** Bits of a mask word that name blocks (all 32 unless a page has fewer blocks). */
const VALID = PER_PAGE >= 32 ? -1 : (1 << PER_PAGE) - 1;
const ctz = (v: number) => (v === 0 ? 32 : 31 - Math.clz32(v & -v));

/** Calls `run(memoryOffset, count)` for runs of consecutive blocks, joining runs that meet. */
function coalescer(run: (at: number, count: number) => void): { add(at: number, count: number): void; flush(): void } {
  let start = 0, len = 0;
  return {
    add(at, count) {
      if (len && at === start + len * BLOCK) { len += count; return; }
      if (len) run(start, len);
      start = at; len = count;
    },
    flush() { if (len) run(start, len); len = 0; },
  };
}

/** Each run of set bits in mask word `x` (block `first` is bit 0) as add(memoryOffset, count). */
function eachRun(x: number, page: number, first: number, add: (at: number, count: number) => void): void {
  while (x !== 0) {
    const lo = ctz(x);
    const n = ctz(~(x >>> lo));
    add(page * CHUNK + (first + lo) * BLOCK, n);
    x = lo + n >= 32 ? 0 : (x >>> (lo + n)) << (lo + n);
  }
}

/**
 * Visit a diff's blocks in memory order, as runs: `carried(at, count)` for
 * blocks whose bytes follow (in this order), `zeroed(at, count)` for blocks to
 * clear. With `slot` (base page slots), a page the base does not hold has
 * every block not carried zeroed: memory there may hold anything.
 */
function walk(d: { pages: Uint32Array; masks: Uint32Array }, carried: (at: number, count: number) => void, zeroed?: (at: number, count: number) => void, slot?: Int32Array): void {
  const copy = coalescer(carried);
  const clear = zeroed && coalescer(zeroed);
  const { pages, masks } = d;
  for (let i = 0; i < pages.length; i++) {
    const p = pages[i];
    const fresh = slot !== undefined && (p >= slot.length || slot[p] < 0);
    for (let w = 0; w < MASK_WORDS; w++) {
      const m = masks[i * 2 * MASK_WORDS + w] & VALID;
      eachRun(m, p, w * 32, copy.add);
      if (clear) eachRun(fresh ? ~m & VALID : masks[i * 2 * MASK_WORDS + MASK_WORDS + w] & VALID, p, w * 32, clear.add);
    }
  }
  copy.flush();
  clear?.flush();
}

/** Carried blocks the masks name. */
export function carriedBlocks(d: { pages: Uint32Array; masks: Uint32Array }): number {
  let n = 0;
  for (let i = 0; i < d.pages.length; i++) {
    for (let w = 0; w < MASK_WORDS; w++) {
      let x = d.masks[i * 2 * MASK_WORDS + w] & VALID;
      x -= (x >>> 1) & 0x55555555;
      x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
      n += (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
    }
  }
  return n;
}

/** Write the carried blocks of a scanned diff into `out` (BLOCK bytes each), one copy per run. */
export function packDiff(d: ScannedDiff, out: Uint8Array): void {
  let to = 0;
  walk(d, (at, count) => {
    out.set(d.source.subarray(at, at + count * BLOCK), to);
    to += count * BLOCK;
  });
}

/**
 * Write `img` into a module's memory so that it equals the captured memory: a
 * full image, or a diff's base and then its blocks over it (a page the base
 * does not hold is cleared with the other pages the base leaves zero). When
 * the memory `holds` the image, or the diff's base, exactly, that is not
 * written again.
 */
export function restoreImage(memory: WebAssembly.Memory, img: MemoryImage | DiffImage, dirty: Dirty, holds?: object): void {
  if (!("base" in img)) { if (holds !== img) restoreMemory(memory, img, dirty); return; }
  if (memory.buffer.byteLength < img.bytes) throw new RangeError(`memory of ${memory.buffer.byteLength} bytes is smaller than the image (${img.bytes})`);
  const slot = slotsOf(img.base);
  // the diff's own pages are written whole below (carried or zeroed block by block): not cleared twice
  const u8 = holds === img.base ? new Uint8Array(memory.buffer) : restoreMemory(memory, img.base, dirty, img.pages.filter((p) => p >= slot.length || slot[p] < 0));
  let from = 0;
  walk(img, (at, count) => {
    u8.set(img.data.subarray(from, from + count * BLOCK), at);
    from += count * BLOCK;
  }, (at, count) => u8.fill(0, at, at + count * BLOCK), slot);
}
