// Smaller Web and platform globals: CustomEvent, MessageChannel, a WebSocket
// that exists (and fails to connect, saying why), performance.now with
// sub-millisecond resolution. Uint8Array base64/hex are in uint8-codecs.js.
import { native } from "./native.js";
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

// both from the host, per instance: an instance restored from a snapshot gets its own clock
export const performance = {
  now: () => native.now(),
  get timeOrigin() { return native.timeOrigin(); },
  mark() {}, measure() {}, getEntries: () => [], getEntriesByName: () => [], getEntriesByType: () => [], clearMarks() {}, clearMeasures() {},
  toJSON() { return { timeOrigin: native.timeOrigin() }; },
};
