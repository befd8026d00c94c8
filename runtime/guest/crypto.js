// crypto.getRandomValues, randomUUID, subtle.digest: host's node:crypto does the work.
import { native, bytesOf, bufferOf } from "./native.js";
import { DOMException } from "./events.js";

const INTEGER_ARRAYS = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "BigInt64Array", "BigUint64Array"];
const DIGESTS = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" };

const subtle = {
  async digest(algorithm, data) {
    const name = String(typeof algorithm === "object" && algorithm !== null ? algorithm.name : algorithm).toUpperCase();
    const alg = DIGESTS[name];
    if (!alg) throw new DOMException("Unrecognized algorithm name", "NotSupportedError");
    const bytes = bytesOf(data);
    if (!bytes) throw new TypeError("Failed to execute 'digest' on 'SubtleCrypto': parameter 2 is not of type 'BufferSource'.");
    return native.digest(alg, bufferOf(bytes.slice()));
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
