// crypto: getRandomValues and randomUUID from the host's CSPRNG; crypto.subtle
// is Node's WebCrypto on the host (keys stay there: a guest CryptoKey holds an
// id and the key's public description), digest a synchronous native.
import { native, bytesOf, bufferOf } from "./native.js";
import { DOMException } from "./events.js";
import { hostCall } from "./bridge.js";
import { unsupported } from "./unsupported.js";

const INTEGER_ARRAYS = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "BigInt64Array", "BigUint64Array"];
const DIGESTS = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" };

const algName = (a) => String(typeof a === "object" && a !== null ? a.name : a).toUpperCase();

/** A CryptoKey whose material stays on the host. */
class CryptoKey {
  constructor() { throw new TypeError("Illegal constructor"); }
  get [Symbol.toStringTag]() { return "CryptoKey"; }
}

const KEY_ID = new WeakMap();
// the host's copy of a key goes when the guest's handle is collected
const registry = typeof FinalizationRegistry === "function" ? new FinalizationRegistry((id) => native.keyFree(id)) : null;

function freeze(v) {
  if (v && typeof v === "object" && !(v instanceof Uint8Array)) { for (const k of Object.keys(v)) freeze(v[k]); Object.freeze(v); }
  return v;
}

function makeKey(d) {
  const key = Object.create(CryptoKey.prototype);
  Object.defineProperties(key, {
    type: { value: d.type, enumerable: true },
    extractable: { value: d.extractable, enumerable: true },
    algorithm: { value: freeze(d.algorithm), enumerable: true },
    usages: { value: Object.freeze(d.usages.slice()), enumerable: true },
  });
  KEY_ID.set(key, d.__hangarKey);
  if (registry) registry.register(key, d.__hangarKey);
  return key;
}

const method = (name, n) => `Failed to execute '${name}' on 'SubtleCrypto': parameter ${n}`;

function keyRef(key, name, n) {
  const id = KEY_ID.get(key);
  if (id === undefined) throw new TypeError(`${method(name, n)} is not of type 'CryptoKey'.`);
  return { __hangarKey: id };
}

function bufferSource(data, name, n) {
  const bytes = bytesOf(data);
  if (!bytes) throw new TypeError(`${method(name, n)} is not of type 'BufferSource'.`);
  return bytes.slice();
}

/** An algorithm (or JWK) for the host: buffers copied, keys by id, plain values as they are. */
function toHost(v) {
  if (v === null || typeof v !== "object") return v;
  const id = KEY_ID.get(v);
  if (id !== undefined) return { __hangarKey: id };
  const bytes = bytesOf(v);
  if (bytes) return bytes.slice();
  if (Array.isArray(v)) return v.map(toHost);
  const out = {};
  for (const k of Object.keys(v)) out[k] = toHost(v[k]);
  return out;
}

function fromHost(v) {
  if (v instanceof Uint8Array) return bufferOf(v);
  if (v && typeof v === "object" && "__hangarKey" in v) return makeKey(v);
  if (v && typeof v === "object" && v.publicKey && v.privateKey && "__hangarKey" in v.publicKey) {
    return { publicKey: makeKey(v.publicKey), privateKey: makeKey(v.privateKey) };
  }
  return v;
}

/**
 * Run `op` on the host. `holds` (the caller's arguments) stays referenced until
 * the host answers: a key the caller drops would otherwise be collected, and
 * its host copy freed, before the host uses it.
 */
async function call(op, args, holds) {
  let v;
  try {
    v = await hostCall("hangar:subtle", [op, ...args]);
    holds.length;
  } catch (e) {
    if (e && (e.name === "TypeError" || e.name === "RangeError")) throw e;
    const name = e && e.name && e.name !== "Error" ? e.name : "OperationError";
    // Node 20 names one error "InvalidAccessException"; the spec's name is InvalidAccessError
    throw new DOMException(e && e.message, name === "InvalidAccessException" ? "InvalidAccessError" : name);
  }
  return fromHost(v);
}

function usagesOf(usages, name, n) {
  if (usages === null || typeof usages !== "object" || typeof usages[Symbol.iterator] !== "function") throw new TypeError(`${method(name, n)} is not iterable.`);
  return [...usages].map(String);
}

/** An HMAC operation the key allows (then done synchronously on the host); anything else goes the general way. */
function isHmac(algorithm, key, usage) {
  if (algName(algorithm) !== "HMAC" || !KEY_ID.has(key) || key.algorithm.name !== "HMAC") return false;
  if (!key.usages.includes(usage)) throw new DOMException(`Unable to use this key to ${usage}`, "InvalidAccessError");
  return true;
}

const subtle = {
  async digest(algorithm, data) {
    const alg = DIGESTS[algName(algorithm)];
    if (!alg) throw new DOMException("Unrecognized algorithm name", "NotSupportedError");
    return native.digest(alg, bufferOf(bufferSource(data, "digest", 2)));
  },
  async encrypt(algorithm, key, data) { return call("encrypt", [toHost(algorithm), keyRef(key, "encrypt", 2), bufferSource(data, "encrypt", 3)], arguments); },
  async decrypt(algorithm, key, data) { return call("decrypt", [toHost(algorithm), keyRef(key, "decrypt", 2), bufferSource(data, "decrypt", 3)], arguments); },
  async sign(algorithm, key, data) {
    if (isHmac(algorithm, key, "sign")) return native.hmacKey(KEY_ID.get(key), bufferOf(bufferSource(data, "sign", 3)));
    return call("sign", [toHost(algorithm), keyRef(key, "sign", 2), bufferSource(data, "sign", 3)], arguments);
  },
  async verify(algorithm, key, signature, data) {
    if (isHmac(algorithm, key, "verify")) return native.hmacKey(KEY_ID.get(key), bufferOf(bufferSource(data, "verify", 4)), bufferOf(bufferSource(signature, "verify", 3)));
    return call("verify", [toHost(algorithm), keyRef(key, "verify", 2), bufferSource(signature, "verify", 3), bufferSource(data, "verify", 4)], arguments);
  },
  async deriveBits(algorithm, baseKey, length) { return call("deriveBits", [toHost(algorithm), keyRef(baseKey, "deriveBits", 2), length === undefined ? null : length], arguments); },
  async deriveKey(algorithm, baseKey, derivedKeyType, extractable, usages) {
    return call("deriveKey", [toHost(algorithm), keyRef(baseKey, "deriveKey", 2), toHost(derivedKeyType), !!extractable, usagesOf(usages, "deriveKey", 5)], arguments);
  },
  async importKey(format, keyData, algorithm, extractable, usages) {
    const f = String(format);
    const data = f === "jwk" ? toHost(keyData) : bufferSource(keyData, "importKey", 2);
    return call("importKey", [f, data, toHost(algorithm), !!extractable, usagesOf(usages, "importKey", 5)], arguments);
  },
  async exportKey(format, key) { return call("exportKey", [String(format), keyRef(key, "exportKey", 2)], arguments); },
  async generateKey(algorithm, extractable, usages) { return call("generateKey", [toHost(algorithm), !!extractable, usagesOf(usages, "generateKey", 3)], arguments); },
  async wrapKey(format, key, wrappingKey, wrapAlgorithm) {
    return call("wrapKey", [String(format), keyRef(key, "wrapKey", 2), keyRef(wrappingKey, "wrapKey", 3), toHost(wrapAlgorithm)], arguments);
  },
  async unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable, usages) {
    return call("unwrapKey", [String(format), bufferSource(wrappedKey, "unwrapKey", 2), keyRef(unwrappingKey, "unwrapKey", 3), toHost(unwrapAlgorithm),
      toHost(unwrappedKeyAlgorithm), !!extractable, usagesOf(usages, "unwrapKey", 7)], arguments);
  },
  /** Cloudflare Workers' extension: constant-time comparison of equal-length buffers. */
  timingSafeEqual(a, b) {
    const x = bytesOf(a), y = bytesOf(b);
    if (!x || !y) throw new TypeError("timingSafeEqual: both arguments must be ArrayBuffer or ArrayBufferView");
    if (x.byteLength !== y.byteLength) throw new TypeError("timingSafeEqual: the two buffers must have the same byte length");
    let diff = 0;
    for (let i = 0; i < x.byteLength; i++) diff |= x[i] ^ y[i];
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
  // Node 24's members (Modern Algorithms in WebCrypto) that Node 20 lacks
  subtle: unsupported(subtle, "crypto.subtle", ["getPublicKey", "encapsulateKey", "encapsulateBits", "decapsulateKey", "decapsulateBits"]),
};

export { CryptoKey };
