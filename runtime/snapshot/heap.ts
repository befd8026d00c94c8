// Free heap memory zeroed before a capture. The engine's malloc (emscripten's
// dlmalloc) leaves freed chunks full of old bytes: after a bundle evaluates,
// half its heap is the parser's garbage (a 500 KB bundle: 3.5 of 7.3 MiB), and
// a snapshot would carry it. Zeroed, those pages are skipped by the capture and
// never touched by a restore.
//
// dlmalloc's state (malloc_state, wasm32 layout) lives in static data; it is
// found once by its shape and checked again on every use. The heap is walked
// chunk by chunk from the segment base to the top chunk; anything unexpected
// (a size out of range, a free chunk without its footer, a walk that misses
// the top) leaves memory untouched. Only bytes past a free chunk's bin links
// (the first 32 bytes: prev_foot, head, fd, bk, child[2], parent, index) are
// zeroed; the footer after it belongs to the next chunk and is kept.
// Zeroing free memory changes nothing a program can see: malloc hands out
// chunks without promising their contents, and calloc clears its own.

const TOPSIZE = 3, LEAST = 4, TOP = 6, SEG_BASE = 112, SEG_SIZE = 113; // word offsets in malloc_state
const CINUSE = 2, PINUSE = 1;
const LINKS = 32;

/** Byte offset of malloc_state in static data, per process (one engine build); null when not found. */
let stateAt: number | null | undefined;

/** A module's memory, or a copy of it (its bytes from offset 0). */
type Bytes = WebAssembly.Memory | Uint8Array;

const bytesOf = (m: Bytes): Uint8Array => (m instanceof Uint8Array ? m : new Uint8Array(m.buffer));

function words(memory: Bytes): Uint32Array {
  const b = bytesOf(memory);
  return new Uint32Array(b.buffer, b.byteOffset, b.byteLength >>> 2);
}

/** Whether the words at `i` look like malloc_state for a heap starting at `heapBase`. */
function isState(w: Uint32Array, i: number, heapBase: number): boolean {
  const bytes = w.length * 4;
  const least = w[i + LEAST], top = w[i + TOP], topsize = w[i + TOPSIZE], base = w[i + SEG_BASE], size = w[i + SEG_SIZE];
  return least >= heapBase && least === base && top > least && top < bytes && topsize > 0 && top % 8 === 0
    && (w[(top + 4) / 4] & ~7) === topsize && base + size <= bytes && top + topsize <= base + size;
}

function findState(w: Uint32Array, heapBase: number): number | null {
  let found: number | null = null;
  for (let i = 0; i + SEG_SIZE < heapBase / 4; i++) {
    if (!isState(w, i, heapBase)) continue;
    if (found !== null) return null; // two candidates: not sure which, so none
    found = i * 4;
  }
  return found;
}

/**
 * Zero the free chunks of the heap that starts at `heapBase` (the initial
 * break, just past the C stack). Returns the bytes zeroed; 0 (nothing
 * written) when the heap is not laid out as expected.
 */
export function zeroFreeHeap(memory: Bytes, heapBase: number): number {
  const w = words(memory);
  if (stateAt === undefined) stateAt = findState(w, heapBase);
  if (stateAt === null || !isState(w, stateAt / 4, heapBase)) return 0;
  const s = stateAt / 4;
  const top = w[s + TOP];
  const free: [number, number][] = [];
  // walk everything first: memory is written only when every chunk checked out
  let p = w[s + SEG_BASE];
  let prevFree = false;
  while (p < top) {
    const head = w[(p + 4) / 4];
    const size = head & ~7;
    if (size < 16 || size % 8 !== 0 || p + size > top) return 0;
    if (!(head & CINUSE)) {
      // dlmalloc merges neighbours: a free chunk follows a used one, and the next chunk records it
      if (prevFree || (w[(p + size + 4) / 4] & PINUSE) || w[(p + size) / 4] !== size) return 0;
      if (size > LINKS) free.push([p + LINKS, p + size]);
      prevFree = true;
    } else prevFree = false;
    p += size;
  }
  // the top chunk is left alone: part of it may be memory never touched, which writing would make resident
  if (p !== top) return 0;
  const u8 = bytesOf(memory);
  let n = 0;
  for (const [from, to] of free) {
    u8.fill(0, from, to);
    n += to - from;
  }
  return n;
}
