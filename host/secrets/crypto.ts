// Secrets at rest: AES-256-GCM under a key derived from HANGAR_SECRET_KEY
// with scrypt (the configured value may be a passphrase). Each value gets a
// random 96-bit IV; scope and name are authenticated as associated data, so
// a ciphertext copied to another row does not decrypt.
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";
import { SecretsError } from "./errors.ts";

const VERSION = 1;
const SALT = "hangar-secrets-v1";
const keys = new Map<string, Buffer>();

/** The 32-byte AES key for a configured secret key (scrypt, N=2^15; cached per process). */
export function deriveKey(secretKey: string): Buffer {
  if (!secretKey) throw new SecretsError("HANGAR_SECRET_KEY is not set: it is needed to store and read secrets", "SECRET_KEY_MISSING");
  let k = keys.get(secretKey);
  if (!k) {
    k = scryptSync(secretKey, SALT, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    keys.set(secretKey, k);
  }
  return k;
}

const aad = (scope: string, name: string) => Buffer.from(`${VERSION}\0${scope}\0${name}`);

/** version(1) | iv(12) | tag(16) | ciphertext */
export function encryptSecret(secretKey: string, scope: string, name: string, value: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", deriveKey(secretKey), iv);
  cipher.setAAD(aad(scope, name));
  const body = Buffer.concat([cipher.update(value, "utf8"), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
}

export function decryptSecret(secretKey: string, scope: string, name: string, blob: Uint8Array): string {
  const buf = Buffer.from(blob);
  const where = scope ? `secret ${name} of function ${scope}` : `global secret ${name}`;
  if (buf.length < 29 || buf[0] !== VERSION) throw new SecretsError(`${where}: unknown ciphertext format`, "SECRET_DECRYPT");
  try {
    const decipher = createDecipheriv("aes-256-gcm", deriveKey(secretKey), buf.subarray(1, 13));
    decipher.setAAD(aad(scope, name));
    decipher.setAuthTag(buf.subarray(13, 29));
    return Buffer.concat([decipher.update(buf.subarray(29)), decipher.final()]).toString("utf8");
  } catch (err) {
    throw new SecretsError(`${where} cannot be decrypted: HANGAR_SECRET_KEY is not the key it was stored with (or the row was tampered with)`, "SECRET_DECRYPT", { cause: err });
  }
}
