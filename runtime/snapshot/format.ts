// A snapshot as bytes: header (magic, fingerprint, checksum), the engine-side
// values as JSON, then the memory image. A snapshot is trusted only when its
// fingerprint is this process's (same engine build, prelude and base image)
// and its checksum matches: anything else is refused, never restored.
import { crc32 } from "node:zlib";
import { SnapshotRefused } from "./adopt.ts";
import { CHUNK, type MemoryImage } from "./image.ts";
import type { InstanceImage } from "../instance.ts";

const MAGIC = "HNGRSNP1";
const FP_BYTES = 64; // sha-256, hex
/** magic, fingerprint, crc32 of what follows, meta length, chunk count */
const HEADER = 8 + FP_BYTES + 4 + 4 + 4;

const ascii = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/**
 * The snapshot of `img` as bytes, in a SharedArrayBuffer (kept and handed to
 * threads without copies); chunk contents are copied from `img.memory.source`
 * (the live memory) or, for a packed image, from its data.
 */
export function encodeSnapshot(img: Omit<InstanceImage, "memory"> & { memory: MemoryImage | { bytes: number; chunks: Uint32Array; source: Uint8Array } }, fingerprint: string): Uint8Array {
  const { memory, ...rest } = img;
  const meta = ascii(JSON.stringify({ ...rest, bytes: memory.bytes }));
  // chunk indexes start 4-byte aligned so they can be read in place
  const metaPad = (4 - ((HEADER + meta.length) % 4)) % 4;
  const chunksAt = HEADER + meta.length + metaPad;
  const dataAt = chunksAt + memory.chunks.byteLength;
  const out = new Uint8Array(new SharedArrayBuffer(dataAt + memory.chunks.length * CHUNK));
  const v = new DataView(out.buffer);
  out.set(ascii(MAGIC), 0);
  out.set(ascii(fingerprint.padEnd(FP_BYTES).slice(0, FP_BYTES)), 8);
  v.setUint32(8 + FP_BYTES + 4, meta.length, true);
  v.setUint32(8 + FP_BYTES + 8, memory.chunks.length, true);
  out.set(meta, HEADER);
  out.set(new Uint8Array(memory.chunks.buffer, memory.chunks.byteOffset, memory.chunks.byteLength), chunksAt);
  if ("source" in memory) {
    const { chunks, source } = memory;
    for (let i = 0; i < chunks.length; ) {
      let j = i + 1;
      while (j < chunks.length && chunks[j] === chunks[j - 1] + 1) j++;
      out.set(source.subarray(chunks[i] * CHUNK, (chunks[j - 1] + 1) * CHUNK), dataAt + i * CHUNK);
      i = j;
    }
  } else out.set(memory.data, dataAt);
  v.setUint32(8 + FP_BYTES, crc32(out.subarray(8 + FP_BYTES + 4)), true);
  return out;
}

/** Parse and verify a snapshot; `base` is the image it was captured on top of. Throws SnapshotRefused. */
export function decodeSnapshot(bytes: Uint8Array, fingerprint: string, base: MemoryImage | undefined): InstanceImage {
  if (bytes.byteLength < HEADER || text(bytes.subarray(0, 8)) !== MAGIC) throw new SnapshotRefused("not a Hangar snapshot");
  const fp = text(bytes.subarray(8, 8 + FP_BYTES)).trimEnd();
  if (fp !== fingerprint) throw new SnapshotRefused("the snapshot was made by another engine build or prelude");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (crc32(bytes.subarray(8 + FP_BYTES + 4)) !== v.getUint32(8 + FP_BYTES, true)) throw new SnapshotRefused("the snapshot is corrupted (checksum mismatch)");
  const metaLen = v.getUint32(8 + FP_BYTES + 4, true);
  const count = v.getUint32(8 + FP_BYTES + 8, true);
  const chunksAt = HEADER + metaLen + ((4 - ((HEADER + metaLen) % 4)) % 4);
  if (chunksAt + count * (4 + CHUNK) !== bytes.byteLength) throw new SnapshotRefused("the snapshot is truncated");
  const { bytes: size, ...rest } = JSON.parse(text(bytes.subarray(HEADER, HEADER + metaLen))) as Omit<InstanceImage, "memory"> & { bytes: number };
  const off = bytes.byteOffset + chunksAt;
  const chunks = off % 4 === 0 ? new Uint32Array(bytes.buffer, off, count) : new Uint32Array(bytes.slice(chunksAt, chunksAt + count * 4).buffer);
  const data = bytes.subarray(chunksAt + count * 4);
  return { ...rest, memory: { bytes: size, chunks, data, base } };
}
