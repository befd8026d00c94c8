// TextEncoder, TextDecoder, atob, btoa: bytes handled by the host (Node's own implementations).
import { native, bytesOf, bufferOf } from "./native.js";
import { DOMException } from "./events.js";

export class TextEncoder {
  get encoding() { return "utf-8"; }
  encode(input = "") { return new Uint8Array(native.utf8Encode(String(input))); }
  encodeInto(source, destination) {
    const str = String(source);
    let read = 0, written = 0;
    for (const ch of str) {
      const cp = ch.codePointAt(0);
      const isLone = cp >= 0xd800 && cp <= 0xdfff;
      const c = isLone ? 0xfffd : cp;
      const n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (written + n > destination.length) break;
      if (n === 1) destination[written] = c;
      else if (n === 2) { destination[written] = 0xc0 | (c >> 6); destination[written + 1] = 0x80 | (c & 63); }
      else if (n === 3) { destination[written] = 0xe0 | (c >> 12); destination[written + 1] = 0x80 | ((c >> 6) & 63); destination[written + 2] = 0x80 | (c & 63); }
      else { destination[written] = 0xf0 | (c >> 18); destination[written + 1] = 0x80 | ((c >> 12) & 63); destination[written + 2] = 0x80 | ((c >> 6) & 63); destination[written + 3] = 0x80 | (c & 63); }
      written += n;
      read += ch.length;
    }
    return { read, written };
  }
}

/** Length of an incomplete UTF-8 sequence at the end of bytes (kept for the next streamed chunk). */
function incompleteTail(bytes) {
  const n = bytes.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = bytes[n - back];
    if ((b & 0xc0) === 0x80) continue; // continuation byte
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

export class TextDecoder {
  constructor(label = "utf-8", options = {}) {
    const enc = native.decoderEncoding(String(label));
    if (enc === null) throw new RangeError(`The "${label}" encoding is not supported`);
    this._encoding = enc;
    this._fatal = !!options.fatal;
    this._ignoreBOM = !!options.ignoreBOM;
    this._pending = null;
    this._started = false;
  }
  get encoding() { return this._encoding; }
  get fatal() { return this._fatal; }
  get ignoreBOM() { return this._ignoreBOM; }
  decode(input, options = {}) {
    let bytes = input === undefined ? new Uint8Array(0) : bytesOf(input);
    if (bytes === null) throw new TypeError("The \"input\" argument must be an instance of ArrayBuffer or ArrayBufferView");
    if (this._pending) { const joined = new Uint8Array(this._pending.length + bytes.length); joined.set(this._pending); joined.set(bytes, this._pending.length); bytes = joined; this._pending = null; }
    const stream = !!options.stream;
    if (stream && this._encoding === "utf-8") {
      const tail = incompleteTail(bytes);
      if (tail) { this._pending = bytes.slice(bytes.length - tail); bytes = bytes.subarray(0, bytes.length - tail); }
    }
    const ignoreBOM = this._ignoreBOM || this._started;
    const r = native.textDecode(bufferOf(bytes), this._encoding, this._fatal, ignoreBOM);
    this._started = stream;
    if (typeof r !== "string") throw new TypeError(r.error);
    return r;
  }
}

export function btoa(data) {
  if (arguments.length === 0) throw new TypeError("1 argument required, but only 0 present.");
  const r = native.btoa(String(data));
  if (typeof r !== "string") throw new DOMException(r.error, "InvalidCharacterError");
  return r;
}

export function atob(data) {
  if (arguments.length === 0) throw new TypeError("1 argument required, but only 0 present.");
  const r = native.atob(String(data));
  if (typeof r !== "string") throw new DOMException(r.error, "InvalidCharacterError");
  return r;
}
