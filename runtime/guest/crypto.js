// crypto.getRandomValues, randomUUID, subtle.digest and HMAC: host's node:crypto does the work.
import { native, bytesOf, bufferOf } from "./native.js";
import { DOMException } from "./events.js";

const INTEGER_ARRAYS = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "BigInt64Array", "BigUint64Array"];
const DIGESTS = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" };

const algName = (a) => String(typeof a === "object" && a !== null ? a.name : a).toUpperCase();

function hashOf(algorithm) {
  const alg = DIGESTS[algName(algorithm)];
  if (!alg) throw new DOMException("Unrecognized algorithm name", "NotSupportedError");
  return alg;
}

function source(data, method, n) {
  const bytes = bytesOf(data);
  if (!bytes) throw new TypeError(`Failed to execute '${method}' on 'SubtleCrypto': parameter ${n} is not of type 'BufferSource'.`);
  return bufferOf(bytes.slice());
}

const KEY_DATA = new WeakMap();

/** A CryptoKey whose raw material stays out of reach of guest code. */
class CryptoKey {
  constructor() { throw new TypeError("Illegal constructor"); }
  get [Symbol.toStringTag]() { return "CryptoKey"; }
}

function checkHmacKey(key, usage) {
  const k = KEY_DATA.get(key);
  if (!k) throw new TypeError("parameter 2 is not of type 'CryptoKey'.");
  if (!key.usages.includes(usage)) throw new DOMException(`key does not support the '${usage}' operation`, "InvalidAccessError");
  return k;
}

const subtle = {
  async digest(algorithm, data) {
    return native.digest(hashOf(algorithm), source(data, "digest", 2));
  },
  async importKey(format, keyData, algorithm, extractable, usages) {
    if (format !== "raw") throw new DOMException(`importKey: format "${format}" is not supported (only "raw" HMAC keys)`, "NotSupportedError");
    if (algName(algorithm) !== "HMAC") throw new DOMException(`importKey: algorithm "${algName(algorithm)}" is not supported (only HMAC)`, "NotSupportedError");
    const hash = hashOf(algorithm.hash);
    const key = Object.create(CryptoKey.prototype);
    Object.defineProperties(key, {
      type: { value: "secret", enumerable: true },
      extractable: { value: Boolean(extractable), enumerable: true },
      algorithm: { value: Object.freeze({ name: "HMAC", hash: Object.freeze({ name: algName(algorithm.hash) }) }), enumerable: true },
      usages: { value: Object.freeze([...usages]), enumerable: true },
    });
    KEY_DATA.set(key, { hash, raw: source(keyData, "importKey", 2) });
    return key;
  },
  async sign(algorithm, key, data) {
    if (algName(algorithm) !== "HMAC") throw new DOMException("sign: only HMAC is supported", "NotSupportedError");
    const k = checkHmacKey(key, "sign");
    return native.hmac(k.hash, k.raw, source(data, "sign", 3));
  },
  async verify(algorithm, key, signature, data) {
    if (algName(algorithm) !== "HMAC") throw new DOMException("verify: only HMAC is supported", "NotSupportedError");
    const k = checkHmacKey(key, "verify");
    const want = new Uint8Array(native.hmac(k.hash, k.raw, source(data, "verify", 4)));
    const got = bytesOf(signature);
    if (!got || got.length !== want.length) return false;
    let diff = 0;
    for (let i = 0; i < want.length; i++) diff |= want[i] ^ got[i];
    return diff === 0;
  },
};

export const crypto = {
  getRandomValues(array) {
    if (!ArrayBuffer.isView(array) || !INTEGER_ARRAYS.includes(array.constructor.name)) {
      throw new DOMException("The data argument must be an integer-type TypedArray", "TypeMismatchError");
    }
    if (array.byteLength > 65536) throw new DOMException(`The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (65536)`, "QuotaExceededError");
    const random = new Uint8Array(native.randomBytes(array.byteLength));
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(random);
    return array;
  },
  randomUUID() { return native.randomUUID(); },
  subtle,
};

export { CryptoKey };
