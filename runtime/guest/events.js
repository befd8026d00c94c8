// DOMException, Event, EventTarget, AbortController, AbortSignal.
const CODES = { IndexSizeError: 1, NotFoundError: 8, NotSupportedError: 9, InvalidStateError: 11, SyntaxError: 12, InvalidCharacterError: 5, NetworkError: 19, AbortError: 20, TimeoutError: 23, DataCloneError: 25, QuotaExceededError: 22 };

export class DOMException extends Error {
  constructor(message = "", name = "Error") {
    super(message);
    Object.defineProperty(this, "name", { value: String(name), configurable: true, writable: true });
  }
  get code() { return CODES[this.name] || 0; }
}

export class Event {
  constructor(type, init = {}) {
    this.type = String(type);
    this.bubbles = !!init.bubbles;
    this.cancelable = !!init.cancelable;
    this.defaultPrevented = false;
    this.target = null;
    this.currentTarget = null;
    this.timeStamp = Date.now();
    this._stop = false;
  }
  preventDefault() { if (this.cancelable) this.defaultPrevented = true; }
  stopImmediatePropagation() { this._stop = true; }
  stopPropagation() {}
}

/**
 * @typedef {{ listener: ((this: unknown, event: Event) => void) | { handleEvent(event: Event): void }, once: boolean, removed?: boolean, prop?: boolean }} Listener
 */

export class EventTarget {
  constructor() { Object.defineProperty(this, "_listeners", { value: new Map() }); }
  addEventListener(type, listener, options) {
    if (listener == null) return;
    const once = typeof options === "object" && options !== null && !!options.once;
    const signal = typeof options === "object" && options !== null ? options.signal : undefined;
    if (signal && signal.aborted) return;
    let list = this._listeners.get(type);
    if (!list) this._listeners.set(type, (list = []));
    if (list.some((l) => l.listener === listener)) return;
    const entry = { listener, once };
    list.push(entry);
    if (signal) signal.addEventListener("abort", () => this.removeEventListener(type, listener), { once: true });
  }
  removeEventListener(type, listener) {
    const list = this._listeners.get(type);
    if (!list) return;
    const i = list.findIndex((l) => l.listener === listener);
    if (i >= 0) { list[i].removed = true; list.splice(i, 1); }
  }
  dispatchEvent(event) {
    event.target = this;
    event.currentTarget = this;
    const handler = this["on" + event.type];
    const list = (this._listeners.get(event.type) || []).slice();
    if (typeof handler === "function") list.unshift({ listener: handler, once: false, prop: true });
    for (const entry of list) {
      if (entry.removed) continue;
      if (entry.once) this.removeEventListener(event.type, entry.listener);
      try {
        if (typeof entry.listener === "function") entry.listener.call(this, event);
        else if (entry.listener && typeof entry.listener.handleEvent === "function") entry.listener.handleEvent(event);
      } catch (e) {
        Promise.reject(e); // reported, never thrown into the dispatcher (as in browsers)
      }
      if (event._stop) break;
    }
    event.currentTarget = null;
    return !event.defaultPrevented;
  }
}

const signalAbort = Symbol("signalAbort");

export class AbortSignal extends EventTarget {
  constructor(key) {
    if (key !== signalAbort) throw new TypeError("Illegal constructor");
    super();
    this._aborted = false;
    this._reason = undefined;
    this.onabort = null;
  }
  get aborted() { return this._aborted; }
  get reason() { return this._reason; }
  throwIfAborted() { if (this._aborted) throw this._reason; }
  [signalAbort](reason) {
    if (this._aborted) return;
    this._aborted = true;
    this._reason = reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason;
    this.dispatchEvent(new Event("abort"));
  }
  static abort(reason) {
    const s = new AbortSignal(signalAbort);
    s[signalAbort](reason);
    return s;
  }
  static timeout(ms) {
    const s = new AbortSignal(signalAbort);
    setTimeout(() => s[signalAbort](new DOMException("The operation was aborted due to timeout", "TimeoutError")), ms);
    return s;
  }
  static any(signals) {
    const s = new AbortSignal(signalAbort);
    for (const other of signals) {
      if (other.aborted) { s[signalAbort](other.reason); return s; }
    }
    for (const other of signals) other.addEventListener("abort", () => s[signalAbort](other.reason), { once: true });
    return s;
  }
}

export class AbortController {
  constructor() { this._signal = new AbortSignal(signalAbort); }
  get signal() { return this._signal; }
  abort(reason) { this._signal[signalAbort](reason); }
}

/** Used by the dispatcher to create signals it aborts itself. */
export function newSignal() { return new AbortController(); }
