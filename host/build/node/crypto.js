// node:crypto for functions: crypto-browserify (hashes, HMAC, ciphers in JS), with the parts
// Web Crypto backs directly (webcrypto, subtle, randomUUID, getRandomValues) taken from it.
import * as polyfill from "hangar-polyfill:crypto";

export * from "hangar-polyfill:crypto";
export const webcrypto = globalThis.crypto;
export const subtle = globalThis.crypto.subtle;
export const randomUUID = () => globalThis.crypto.randomUUID();
export const getRandomValues = (array) => globalThis.crypto.getRandomValues(array);
export default { ...polyfill, webcrypto, subtle, randomUUID, getRandomValues };
