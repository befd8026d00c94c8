import { createHash } from "node:crypto";

/**
 * A 64-bit advisory lock key for a name. `hashtext` is 32-bit and collides;
 * the first 8 bytes of SHA-256 as a signed int8 do not in practice.
 */
export function lockKey(name: string): string {
  return createHash("sha256").update(name).digest().readBigInt64BE(0).toString();
}
