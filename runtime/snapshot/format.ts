// A snapshot as bytes: header (magic, fingerprint, checksum), the engine-side
// values as JSON, then the memory as a block diff against the base image
// (diff.ts): page indexes, their masks, the carried blocks. A snapshot is
// trusted only when its fingerprint is this process's (same engine build,
// prelude, base image and block size) and its checksum matches: anything else
// is refused, never restored.
import { crc32 } from "node:zlib";
import { SnapshotRefused } from "./adopt.ts";
import { BLOCK, carriedBlocks, MASK_WORDS, packDiff, type DiffImage, type ScannedDiff } from "./diff.ts";
import { CHUNK, type MemoryImage } from "./image.ts";
import type { InstanceImage } from "../instance.ts";

const MAGIC = "HNGRSNP2";
const FP_BYTES = 64; // sha-256, hex
/** magic, fingerprint, crc32 of what follows, meta length, page count */
const HEADER = 8 + FP_BYTES + 4 + 4 + 4;
/** Bytes per page of index and masks. */
const PAGE_META = 4 + 8 * MASK_WORDS;

const ascii = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/**
 * The snapshot of an instance whose memory was scanned against the base image,
 * as bytes in a SharedArrayBuffer (kept and handed to threads without copies);
 * the carried blocks are copied once, from the live memory.
 */
export function encodeSnapshot(img: Omit<InstanceImage, "memory"> & { memory: ScannedDiff }, fingerprint: string): Uint8Array {
  const { memory, ...rest } = img;
  const meta = ascii(JSON.stringify({ ...rest, bytes: memory.bytes }));
  // page indexes and masks start 4-byte aligned so they can be read in place
  const metaPad = (4 - ((HEADER + meta.length) % 4)) % 4;
  const pagesAt = HEADER + meta.length + metaPad;
  const masksAt = pagesAt + memory.pages.byteLength;
  const dataAt = masksAt + memory.masks.byteLength;
  const out = new Uint8Array(new SharedArrayBuffer(dataAt + memory.blocks * BLOCK));
  const v = new DataView(out.buffer);
  out.set(ascii(MAGIC), 0);
  out.set(ascii(fingerprint.padEnd(FP_BYTES).slice(0, FP_BYTES)), 8);
  v.setUint32(8 + FP_BYTES + 4, meta.length, true);
  v.setUint32(8 + FP_BYTES + 8, memory.pages.length, true);
  out.set(meta, HEADER);
  out.set(new Uint8Array(memory.pages.buffer, memory.pages.byteOffset, memory.pages.byteLength), pagesAt);
  out.set(new Uint8Array(memory.masks.buffer, memory.masks.byteOffset, memory.masks.byteLength), masksAt);
  packDiff(memory, out.subarray(dataAt));
  v.setUint32(8 + FP_BYTES, crc32(out.subarray(8 + FP_BYTES + 4)), true);
  return out;
}

/** Parse and verify a snapshot; `base` is the image it was captured on top of. Throws SnapshotRefused. */
export function decodeSnapshot(bytes: Uint8Array, fingerprint: string, base: MemoryImage): InstanceImage {
  if (bytes.byteLength < HEADER || text(bytes.subarray(0, 8)) !== MAGIC) throw new SnapshotRefused("not a Hangar snapshot");
  const fp = text(bytes.subarray(8, 8 + FP_BYTES)).trimEnd();
  if (fp !== fingerprint) throw new SnapshotRefused("the snapshot was made by another engine build or prelude");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (crc32(bytes.subarray(8 + FP_BYTES + 4)) !== v.getUint32(8 + FP_BYTES, true)) throw new SnapshotRefused("the snapshot is corrupted (checksum mismatch)");
  const metaLen = v.getUint32(8 + FP_BYTES + 4, true);
  const count = v.getUint32(8 + FP_BYTES + 8, true);
  const pagesAt = HEADER + metaLen + ((4 - ((HEADER + metaLen) % 4)) % 4);
  const dataAt = pagesAt + count * PAGE_META;
  if (dataAt > bytes.byteLength) throw new SnapshotRefused("the snapshot is truncated");
  const { bytes: size, ...rest } = JSON.parse(text(bytes.subarray(HEADER, HEADER + metaLen))) as Omit<InstanceImage, "memory"> & { bytes: number };
  const words = (at: number, n: number) => {
    const off = bytes.byteOffset + at;
    return off % 4 === 0 ? new Uint32Array(bytes.buffer, off, n) : new Uint32Array(bytes.slice(at, at + n * 4).buffer);
  };
  const pages = words(pagesAt, count);
  const masks = words(pagesAt + count * 4, count * 2 * MASK_WORDS);
  if (pages.some((p, i) => p >= size / CHUNK || (i > 0 && p <= pages[i - 1]))) throw new SnapshotRefused("the snapshot's pages are out of order or range");
  const data = bytes.subarray(dataAt);
  if (carriedBlocks({ pages, masks }) * BLOCK !== data.byteLength) throw new SnapshotRefused("the snapshot is truncated");
  const memory: DiffImage = { bytes: size, base, pages, masks, data };
  return { ...rest, memory };
}
