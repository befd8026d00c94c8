// Block diffs of memory against a base image (runtime/snapshot/diff.ts): what
// a restore writes must equal the captured memory byte for byte, whatever the
// module held before (fresh, or used and full of another instance's bytes).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BLOCK, restoreImage, scanDiff, packDiff, type DiffImage } from "../../runtime/snapshot/diff.ts";
import { CHUNK, captureMemory } from "../../runtime/snapshot/image.ts";

const PAGES = 64;

/** A deterministic byte pattern (xorshift32). */
function noise(seed: number): () => number {
  let x = seed || 1;
  return () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return x & 0xff; };
}

function memoryOf(pages: number): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: (pages * CHUNK) / 65536, maximum: 64 });
}

test("a block diff restores the captured memory exactly, into a fresh or a used memory", () => {
  const rnd = noise(7);
  const live = memoryOf(PAGES);
  const u8 = new Uint8Array(live.buffer);
  // base: pages 2..20 full of bytes, page 30 with one word
  for (let i = 2 * CHUNK; i < 20 * CHUNK; i++) u8[i] = rnd() | 1;
  u8[30 * CHUNK + 8] = 9;
  const base = captureMemory(live);
  assert.equal(base.chunks.length, 19);

  // the version: a word changed in one block, a block cleared, a whole base page cleared,
  // one byte at the last byte of a page, a new page (not in the base) half written, a block in a new page
  u8[3 * CHUNK + 5] ^= 0xff;
  u8.fill(0, 4 * CHUNK + BLOCK * 3, 4 * CHUNK + BLOCK * 4);
  u8.fill(0, 5 * CHUNK, 6 * CHUNK);
  u8[8 * CHUNK - 1] ^= 0x55;
  for (let i = 40 * CHUNK; i < 40 * CHUNK + CHUNK / 2; i++) u8[i] = rnd();
  u8[50 * CHUNK + 3 * BLOCK + 1] = 1;
  const want = u8.slice();

  const scanned = scanDiff(live, base);
  assert.deepEqual([...scanned.pages], [3, 4, 5, 7, 40, 50]);
  assert.equal(scanned.blocks, 1 + 1 + CHUNK / 2 / BLOCK + 1, "only the changed non-zero blocks are carried");
  const data = new Uint8Array(scanned.blocks * BLOCK);
  packDiff(scanned, data);
  const img: DiffImage = { bytes: scanned.bytes, base, pages: scanned.pages, masks: scanned.masks, data };

  const fresh = memoryOf(PAGES);
  restoreImage(fresh, img, { chunks: new Uint32Array() });
  assert.deepEqual(new Uint8Array(fresh.buffer), want, "restored into a fresh memory");

  const used = memoryOf(PAGES);
  const junk = new Uint8Array(used.buffer);
  for (let i = 0; i < junk.length; i++) junk[i] = rnd();
  restoreImage(used, img, { ranges: [[0, PAGES]] });
  assert.deepEqual(new Uint8Array(used.buffer), want, "restored into a used memory full of other bytes");
});

test("memory equal to its base diffs to nothing", () => {
  const live = memoryOf(8);
  new Uint8Array(live.buffer).fill(3, CHUNK, 3 * CHUNK);
  const d = scanDiff(live, captureMemory(live));
  assert.equal(d.pages.length, 0);
  assert.equal(d.blocks, 0);
});
