// node:crypto for functions: what Web Crypto backs directly (webcrypto, subtle, randomUUID,
// getRandomValues), plus the synchronous hashes, HMAC and PBKDF2 that webhook and signing code
// calls, from crypto-browserify's own packages. The rest of crypto-browserify (ciphers, sign,
// DH, ECDH) is left out: its start-up alone costs seconds of CPU in the sandbox.
import createHash from "hangar-polyfill-dep:create-hash";
import createHmac from "hangar-polyfill-dep:create-hmac";
import { pbkdf2, pbkdf2Sync } from "hangar-polyfill-dep:pbkdf2";
import { Buffer } from "node:buffer";

export { createHash, createHmac, pbkdf2, pbkdf2Sync };
export const webcrypto = globalThis.crypto;
export const subtle = globalThis.crypto.subtle;
export const randomUUID = () => globalThis.crypto.randomUUID();
export const getRandomValues = (array) => globalThis.crypto.getRandomValues(array);
export function randomBytes(size, callback) {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i += 65536) globalThis.crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
  if (typeof callback === "function") {
    queueMicrotask(() => callback(null, bytes));
    return undefined;
  }
  return bytes;
}
export function timingSafeEqual(a, b) {
  if (a.byteLength !== b.byteLength) throw new RangeError("Input buffers must have the same byte length");
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}
export const getHashes = () => ["md5", "rmd160", "ripemd160", "sha1", "sha224", "sha256", "sha384", "sha512"];
export default { createHash, createHmac, pbkdf2, pbkdf2Sync, webcrypto, subtle, randomUUID, getRandomValues, randomBytes, timingSafeEqual, getHashes };
