import { randomFillSync } from "node:crypto";

// Random bytes are drawn 4 KiB at a time: one syscall per ~400 ids, not one per id.
const POOL = Buffer.alloc(4096);
let offset = POOL.length;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** A UUIDv7: time-ordered, so invocation ids sort by start time. */
export function uuid7(now = Date.now()): string {
  if (offset + 10 > POOL.length) { randomFillSync(POOL); offset = 0; }
  const b = new Array<string>(16);
  // 48-bit big-endian milliseconds
  let t = now;
  for (let i = 5; i >= 0; i--) { b[i] = HEX[t % 256]; t = Math.floor(t / 256); }
  const r = POOL;
  const o = offset;
  offset += 10;
  b[6] = HEX[(r[o] & 0x0f) | 0x70];
  b[7] = HEX[r[o + 1]];
  b[8] = HEX[(r[o + 2] & 0x3f) | 0x80];
  for (let i = 9; i < 16; i++) b[i] = HEX[r[o + i - 6]];
  return `${b[0]}${b[1]}${b[2]}${b[3]}-${b[4]}${b[5]}-${b[6]}${b[7]}-${b[8]}${b[9]}-${b[10]}${b[11]}${b[12]}${b[13]}${b[14]}${b[15]}`;
}
