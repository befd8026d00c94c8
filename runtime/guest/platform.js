// Smaller Web and platform globals: CustomEvent, MessageChannel, a WebSocket
// that exists (and fails to connect, saying why), Uint8Array base64/hex,
// performance.now with sub-millisecond resolution.
import { native, bytesOf, bufferOf } from "./native.js";
import { DOMException, Event, EventTarget } from "./events.js";
import { structuredClone } from "./clone.js";

export class CustomEvent extends Event {
  constructor(type, init = {}) {
    super(type, init);
    this._detail = init && init.detail !== undefined ? init.detail : null;
  }
  get detail() { return this._detail; }
}

export class MessageEvent extends Event {
  constructor(type, init = {}) {
    super(type, init);
    this.data = init && init.data !== undefined ? init.data : null;
    this.origin = (init && init.origin) || "";
    this.lastEventId = (init && init.lastEventId) || "";
    this.source = null;
    this.ports = [];
  }
}

export class MessagePort extends EventTarget {
  constructor() { super(); this._other = null; this._closed = false; this.onmessage = null; }
  postMessage(message) {
    const other = this._other;
    if (this._closed || !other || other._closed) return;
    const data = structuredClone(message);
    Promise.resolve().then(() => {
      if (other._closed) return;
      const ev = new MessageEvent("message", { data });
      other.dispatchEvent(ev);
    });
  }
  start() {}
  close() { this._closed = true; }
}

export class MessageChannel {
  constructor() {
    this.port1 = new MessagePort();
    this.port2 = new MessagePort();
    this.port1._other = this.port2;
    this.port2._other = this.port1;
  }
}

/** Hangar runs no outbound WebSockets: the constructor works (libraries build one up front) and connecting fails. */
export class WebSocket extends EventTarget {
  constructor(url, protocols) {
    super();
    this.url = String(url);
    this.protocol = "";
    this.extensions = "";
    this.binaryType = "blob";
    this.bufferedAmount = 0;
    this.readyState = 0;
    this.onopen = this.onerror = this.onclose = this.onmessage = null;
    void protocols;
    Promise.resolve().then(() => {
      this.readyState = 3;
      /** @type {Event & { message?: string }} */
      const err = new Event("error");
      err.message = "WebSocket connections are not supported in Hangar";
      this.dispatchEvent(err);
      const close = new Event("close");
      Object.assign(close, { code: 1006, reason: "WebSocket connections are not supported in Hangar", wasClean: false });
      this.dispatchEvent(close);
    });
  }
  send() { throw new DOMException("WebSocket connections are not supported in Hangar", "InvalidStateError"); }
  close() { this.readyState = 3; }
}
Object.assign(WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const B64URL = /^[A-Za-z0-9_-]*={0,2}$/;

function decodeBase64(string, options = {}) {
  if (typeof string !== "string") throw new TypeError("Uint8Array.fromBase64 requires a string");
  const alphabet = options.alphabet === undefined ? "base64" : options.alphabet;
  if (alphabet !== "base64" && alphabet !== "base64url") throw new TypeError(`unknown base64 alphabet "${alphabet}"`);
  const s = string.replace(/[\t\n\f\r ]/g, "");
  if (!(alphabet === "base64" ? B64 : B64URL).test(s) || (s.includes("=") && s.length % 4 !== 0) || s.length % 4 === 1) {
    throw new SyntaxError("Uint8Array.fromBase64: the string is not valid base64");
  }
  return new Uint8Array(native.base64Decode(s));
}

function decodeHex(string) {
  if (typeof string !== "string") throw new TypeError("Uint8Array.fromHex requires a string");
  if (string.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(string)) throw new SyntaxError("Uint8Array.fromHex: the string is not valid hex");
  return new Uint8Array(native.hexDecode(string));
}

const define = (o, name, value) => { if (!Object.prototype.hasOwnProperty.call(o, name)) Object.defineProperty(o, name, { value, writable: true, configurable: true, enumerable: false }); };

/** Uint8Array.fromBase64/fromHex and the prototype's toBase64/toHex/setFromBase64/setFromHex (ES2026). */
export function installUint8ArrayCodecs() {
  define(Uint8Array, "fromBase64", function fromBase64(string, options) { return decodeBase64(string, options); });
  define(Uint8Array, "fromHex", function fromHex(string) { return decodeHex(string); });
  define(Uint8Array.prototype, "toBase64", function toBase64(options = {}) {
    const url = options.alphabet === "base64url";
    let s = native.base64Encode(bufferOf(bytesOf(this)), url);
    if (options.omitPadding) s = s.replace(/=+$/, "");
    return s;
  });
  define(Uint8Array.prototype, "toHex", function toHex() { return native.hexEncode(bufferOf(bytesOf(this))); });
  define(Uint8Array.prototype, "setFromBase64", function setFromBase64(string, options) {
    const b = decodeBase64(string, options);
    const n = Math.min(b.length, this.length);
    this.set(b.subarray(0, n));
    return { read: string.length, written: n };
  });
  define(Uint8Array.prototype, "setFromHex", function setFromHex(string) {
    const b = decodeHex(string);
    const n = Math.min(b.length, this.length);
    this.set(b.subarray(0, n));
    return { read: n * 2, written: n };
  });
}

// both from the host, per instance: an instance restored from a snapshot gets its own clock
export const performance = {
  now: () => native.now(),
  get timeOrigin() { return native.timeOrigin(); },
  mark() {}, measure() {}, getEntries: () => [], getEntriesByName: () => [], getEntriesByType: () => [], clearMarks() {}, clearMeasures() {},
  toJSON() { return { timeOrigin: native.timeOrigin() }; },
};
