// The service-worker form: addEventListener("fetch", (event) => event.respondWith(...)),
// and "scheduled" the way Workers had it.
import { DOMException, Event, EventTarget } from "./events.js";

export class FetchEvent extends Event {
  constructor(type, init = {}) {
    super(type, init);
    this.request = init.request;
    this._response = null;
    this._ctx = init._ctx || null;
  }
  respondWith(r) {
    if (this._response) throw new DOMException("FetchEvent.respondWith was already called", "InvalidStateError");
    this._response = Promise.resolve(r);
    this.stopImmediatePropagation();
  }
  waitUntil(p) { if (this._ctx) this._ctx.waitUntil(p); }
  passThroughOnException() {}
}

export class ScheduledEvent extends Event {
  constructor(type, init = {}) {
    super(type, init);
    this.scheduledTime = init.scheduledTime ?? Date.now();
    this.cron = init.cron ?? "";
    this._ctx = init._ctx || null;
  }
  waitUntil(p) { if (this._ctx) this._ctx.waitUntil(p); }
  noRetry() {}
}

const target = new EventTarget();

export const globalEvents = {
  addEventListener: (type, listener, options) => target.addEventListener(type, listener, options),
  // the guest EventTarget ignores options here; the signature is the Web one
  removeEventListener: (type, listener, options) => (/** @type {(type: string, listener: unknown, options?: unknown) => void} */ (target.removeEventListener))(type, listener, options),
  dispatchEvent: (event) => target.dispatchEvent(event),
  has: (type) => (target._listeners.get(type) || []).length > 0,
  async fetch(request, ctx) {
    const ev = new FetchEvent("fetch", { request, _ctx: ctx });
    // listeners are called here, not through dispatchEvent, so a throwing one fails the request
    for (const { listener } of (target._listeners.get("fetch") || []).slice()) {
      if (typeof listener === "function") listener.call(globalThis, ev); else listener.handleEvent(ev);
      if (ev._response) break;
    }
    if (!ev._response) throw new TypeError("no fetch listener called event.respondWith()");
    return ev._response;
  },
  async scheduled(payload, ctx) {
    const p = payload && typeof payload === "object" ? payload : {};
    const at = p.at instanceof Date ? p.at.getTime() : p.scheduledTime;
    const ev = new ScheduledEvent("scheduled", { scheduledTime: at, cron: p.cron, _ctx: ctx });
    for (const { listener } of (target._listeners.get("scheduled") || []).slice()) {
      if (typeof listener === "function") listener.call(globalThis, ev); else listener.handleEvent(ev);
    }
    return null;
  },
};
