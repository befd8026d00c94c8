// Uint8Array.fromBase64/fromHex and the prototype's toBase64/toHex/
// setFromBase64/setFromHex (ES2026). The common whole-string decode is the
// host's; decoding into a target (read/written counts, a partial last chunk,
// bytes written up to an error) follows the spec's FromBase64 step by step.
import { native, bytesOf, bufferOf } from "./native.js";

const STANDARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** Each ASCII code's 6-bit value in one alphabet, or -1. */
function table(alphabet) {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[alphabet.charCodeAt(i)] = i;
  return t;
}
const TABLES = { base64: table(STANDARD), base64url: table(STANDARD.slice(0, 62) + "-_") };
const LAST_CHUNK = ["loose", "strict", "stop-before-partial"];
const MAX_LENGTH = 2 ** 53 - 1;
const EQ = 61;

const isSpace = (c) => c === 9 || c === 10 || c === 12 || c === 13 || c === 32;

function base64Options(options, what) {
  if (options !== undefined && (options === null || typeof options !== "object")) throw new TypeError(`${what}: options must be an object`);
  const alphabet = options === undefined || options.alphabet === undefined ? "base64" : options.alphabet;
  if (alphabet !== "base64" && alphabet !== "base64url") throw new TypeError(`${what}: alphabet must be "base64" or "base64url"`);
  const last = options === undefined || options.lastChunkHandling === undefined ? "loose" : options.lastChunkHandling;
  if (!LAST_CHUNK.includes(last)) throw new TypeError(`${what}: lastChunkHandling must be "loose", "strict" or "stop-before-partial"`);
  return { alphabet, last };
}

function checkTarget(t, what) {
  if (!(t instanceof Uint8Array)) throw new TypeError(`${what} must be called on a Uint8Array`);
}

/**
 * The spec's FromBase64: at most maxLength bytes, `read` the characters
 * consumed (whitespace and padding included, up to the last whole chunk
 * decoded), and the SyntaxError that stopped it (null when none).
 */
function fromBase64(string, alphabet, last, maxLength) {
  const values = TABLES[alphabet];
  const len = string.length;
  const out = new Uint8Array(Math.min(maxLength, Math.ceil(len / 4) * 3));
  let written = 0, read = 0, i = 0, n = 0, acc = 0;
  const result = (error) => ({ read, bytes: out.subarray(0, written), error });
  const fail = (why) => result(new SyntaxError(`the string is not valid base64: ${why}`));
  /** Write a chunk of 2 or 3 characters (1 or 2 bytes); false when strict and its spare bits are not zero. */
  const partial = (strict) => {
    const spare = n === 2 ? acc & 0xf : acc & 0x3;
    if (strict && spare !== 0) return false;
    if (n === 2) out[written++] = acc >> 4;
    else { out[written++] = acc >> 10; out[written++] = (acc >> 2) & 0xff; }
    return true;
  };
  if (maxLength === 0) return result(null);
  for (;;) {
    while (i < len && isSpace(string.charCodeAt(i))) i++;
    if (i === len) {
      if (n > 0) {
        if (last === "stop-before-partial") return result(null);
        if (last === "strict") return fail("the last chunk is not padded");
        if (n === 1) return fail("a single character in the last chunk");
        partial(false);
      }
      read = len;
      return result(null);
    }
    const c = string.charCodeAt(i++);
    if (c === EQ) {
      if (n < 2) return fail("padding too early");
      while (i < len && isSpace(string.charCodeAt(i))) i++;
      if (n === 2) {
        if (i === len) return last === "stop-before-partial" ? result(null) : fail("one padding character where two are needed");
        if (string.charCodeAt(i) === EQ) { i++; while (i < len && isSpace(string.charCodeAt(i))) i++; }
      }
      if (i < len) return fail("characters after the padding");
      if (!partial(last === "strict")) return fail("nonzero bits before the padding");
      read = len;
      return result(null);
    }
    const v = c < 128 ? values[c] : -1;
    if (v < 0) return fail(`unexpected character ${JSON.stringify(String.fromCharCode(c))}`);
    // the chunk so far is exactly what fits: the next character could only have been padding
    const room = maxLength - written;
    if ((room === 1 && n === 2) || (room === 2 && n === 3)) return result(null);
    acc = (acc << 6) | v;
    if (++n === 4) {
      out[written++] = acc >> 16; out[written++] = (acc >> 8) & 0xff; out[written++] = acc & 0xff;
      acc = 0; n = 0; read = i;
      if (written === maxLength) return result(null);
    }
  }
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const B64URL = /^[A-Za-z0-9_-]*={0,2}$/;

function decodeBase64(string, options) {
  if (typeof string !== "string") throw new TypeError("Uint8Array.fromBase64 requires a string");
  const { alphabet, last } = base64Options(options, "Uint8Array.fromBase64");
  if (last === "loose") {
    // the common case, the host's decoder: whitespace is ignored anywhere, and loose decoding ignores spare bits as Node's does
    const s = string.replace(/[\t\n\f\r ]/g, "");
    if (!(alphabet === "base64" ? B64 : B64URL).test(s) || (s.includes("=") && s.length % 4 !== 0) || s.length % 4 === 1) {
      throw new SyntaxError("Uint8Array.fromBase64: the string is not valid base64");
    }
    return new Uint8Array(native.base64Decode(s));
  }
  const r = fromBase64(string, alphabet, last, MAX_LENGTH);
  if (r.error) throw r.error;
  return r.bytes.slice();
}

const HEX = /[^0-9a-fA-F]/;

/** The spec's FromHex: pairs decoded until maxLength bytes, and the SyntaxError at the first bad pair (bytes before it kept). */
function fromHex(string, maxLength) {
  if (typeof string !== "string") throw new TypeError("Uint8Array.fromHex requires a string");
  if (string.length % 2 !== 0) return { read: 0, bytes: new Uint8Array(0), error: new SyntaxError("the string is not valid hex: odd length") };
  const s = string.slice(0, Math.min(string.length, maxLength * 2));
  const bad = s.search(HEX);
  const good = bad === -1 ? s : s.slice(0, bad - (bad % 2));
  return { read: good.length, bytes: new Uint8Array(native.hexDecode(good)), error: bad === -1 ? null : new SyntaxError("the string is not valid hex") };
}

const define = (o, name, value) => { if (!Object.prototype.hasOwnProperty.call(o, name)) Object.defineProperty(o, name, { value, writable: true, configurable: true, enumerable: false }); };

/** Uint8Array.fromBase64/fromHex and the prototype's toBase64/toHex/setFromBase64/setFromHex (ES2026). */
export function installUint8ArrayCodecs() {
  define(Uint8Array, "fromBase64", function fromBase64(string, options) { return decodeBase64(string, options); });
  define(Uint8Array, "fromHex", function fromHex_(string) {
    const r = fromHex(string, MAX_LENGTH);
    if (r.error) throw r.error;
    return r.bytes;
  });
  define(Uint8Array.prototype, "toBase64", function toBase64(options = {}) {
    const url = options.alphabet === "base64url";
    let s = native.base64Encode(bufferOf(bytesOf(this)), url);
    if (options.omitPadding) s = s.replace(/=+$/, "");
    return s;
  });
  define(Uint8Array.prototype, "toHex", function toHex() { return native.hexEncode(bufferOf(bytesOf(this))); });
  define(Uint8Array.prototype, "setFromBase64", function setFromBase64(string, options) {
    checkTarget(this, "Uint8Array.prototype.setFromBase64");
    if (typeof string !== "string") throw new TypeError("Uint8Array.prototype.setFromBase64 requires a string");
    const { alphabet, last } = base64Options(options, "Uint8Array.prototype.setFromBase64");
    const r = fromBase64(string, alphabet, last, this.length);
    // the bytes before an error are written, then the error thrown (as the spec says)
    this.set(r.bytes);
    if (r.error) throw r.error;
    return { read: r.read, written: r.bytes.length };
  });
  define(Uint8Array.prototype, "setFromHex", function setFromHex(string) {
    checkTarget(this, "Uint8Array.prototype.setFromHex");
    const r = fromHex(string, this.length);
    this.set(r.bytes);
    if (r.error) throw r.error;
    return { read: r.read, written: r.bytes.length };
  });
}
