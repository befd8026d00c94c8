// Request and Response, with fully buffered bodies (no streaming).
import { Headers, setGuard } from "./headers.js";
import { URL, URLSearchParams } from "./url.js";
import { TextEncoder, TextDecoder } from "./encoding.js";
import { AbortController, AbortSignal } from "./events.js";
import { bytesOf } from "./native.js";

const encoder = new TextEncoder();
const NULL_BODY_STATUS = [101, 103, 204, 205, 304];
const REDIRECT_STATUS = [301, 302, 303, 307, 308];
const FORBIDDEN_METHODS = ["CONNECT", "TRACE", "TRACK"];
const NORMALIZED_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"];

/** [bytes | null, content-type | null] for a BodyInit. */
export function extractBody(body) {
  if (body === null || body === undefined) return [null, null];
  if (typeof body === "string") return [encoder.encode(body), "text/plain;charset=UTF-8"];
  if (body instanceof URLSearchParams) return [encoder.encode(body.toString()), "application/x-www-form-urlencoded;charset=UTF-8"];
  const bytes = bytesOf(body);
  if (bytes) return [bytes.slice(), null];
  if (typeof body === "object" && typeof body._hangarBytes === "function") return [body._hangarBytes(), null];
  return [encoder.encode(String(body)), "text/plain;charset=UTF-8"];
}

/** A minimal ReadableStream-like view of a buffered body: getReader() and async iteration. */
function streamOf(owner) {
  let done = false;
  const read = async () => {
    if (done) return { done: true, value: undefined };
    done = true;
    const bytes = owner._consume();
    return bytes.length ? { done: false, value: bytes } : { done: true, value: undefined };
  };
  return {
    locked: false,
    getReader() { this.locked = true; return { read, releaseLock() {}, cancel: async () => { done = true; }, closed: Promise.resolve() }; },
    async *[Symbol.asyncIterator]() { const r = await read(); if (!r.done) yield r.value; },
    _hangarBytes: () => owner._consume(),
  };
}

class Body {
  _initBody(bytes) { this._bytes = bytes; this._used = false; this._stream = null; }
  get body() {
    if (this._bytes === null) return null;
    if (!this._stream) this._stream = streamOf(this);
    return this._stream;
  }
  get bodyUsed() { return this._used; }
  _consume() {
    if (this._used) throw new TypeError("Body is unusable: Body has already been read");
    this._used = true;
    return this._bytes === null ? new Uint8Array(0) : this._bytes;
  }
  async arrayBuffer() { return this._consume().slice().buffer; }
  async bytes() { return this._consume().slice(); }
  async text() { return new TextDecoder().decode(this._consume()); }
  async json() { return JSON.parse(await this.text()); }
  async formData() { throw new TypeError("formData() is not supported in Hangar"); }
  async blob() { throw new TypeError("blob() is not supported in Hangar"); }
}

// Marks a request the host built: its URL is already serialised, its method
// normalised and its header names lower-cased, so nothing is parsed again.
const FROM_HOST = {};

/** The incoming request of a fetch invocation, without re-validating what the host already did. */
export function hostRequest(r) {
  return new Request(FROM_HOST, r);
}

export class Request extends Body {
  constructor(input, init = {}) {
    super();
    if (input === FROM_HOST) {
      this._url = init.url;
      this._method = init.method;
      this._headers = new Headers();
      this._headers._list = init.headers.map(([k, v]) => [k, v]);
      setGuard(this._headers, "request");
      this._redirect = "follow";
      this._signal = null; // made on first use
      this._initBody(init.body ?? null);
      return;
    }
    let src = null;
    if (input instanceof Request) src = input;
    else {
      let parsed;
      try { parsed = new URL(String(input)); } catch { throw new TypeError(`Failed to parse URL from ${String(input)}`); }
      if (parsed.username || parsed.password) throw new TypeError(`Request cannot be constructed from a URL that includes credentials: ${String(input)}`);
      this._url = parsed.href;
    }
    if (src) this._url = src._url;
    let method = init.method !== undefined ? String(init.method) : src ? src._method : "GET";
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(method)) throw new TypeError(`'${method}' is not a valid HTTP method.`);
    if (FORBIDDEN_METHODS.includes(method.toUpperCase())) throw new TypeError(`'${method}' HTTP method is unsupported.`);
    if (NORMALIZED_METHODS.includes(method.toUpperCase())) method = method.toUpperCase();
    this._method = method;
    this._headers = new Headers(init.headers !== undefined ? init.headers : src ? src._headers : undefined);
    setGuard(this._headers, "request");
    this._redirect = init.redirect !== undefined ? String(init.redirect) : src ? src._redirect : "follow";
    if (!["follow", "manual", "error"].includes(this._redirect)) throw new TypeError(`'${this._redirect}' is not a valid value for redirect`);
    const parentSignal = init.signal !== undefined ? init.signal : src ? src.signal : null;
    const controller = new AbortController();
    if (parentSignal) {
      if (parentSignal.aborted) controller.abort(parentSignal.reason);
      else parentSignal.addEventListener("abort", () => controller.abort(parentSignal.reason), { once: true });
    }
    this._signal = controller.signal;
    let bytes = null;
    if (init.body !== undefined && init.body !== null) {
      if (method === "GET" || method === "HEAD") throw new TypeError("Request with GET/HEAD method cannot have body.");
      const [b, type] = extractBody(init.body);
      bytes = b;
      if (type && !this._headers.has("content-type")) this._headers.append("content-type", type);
    } else if (src && init.body === undefined) {
      if (src._bytes !== null && src._used) throw new TypeError("Cannot construct a Request with a Request object that has already been used.");
      bytes = src._bytes;
      if (src._bytes !== null) src._used = true;
    }
    this._initBody(bytes);
    this._cf = init.cf;
  }
  get method() { return this._method; }
  get url() { return this._url; }
  get headers() { return this._headers; }
  get redirect() { return this._redirect; }
  get signal() { return (this._signal ??= new AbortController().signal); }
  get credentials() { return "same-origin"; }
  get mode() { return "cors"; }
  get cache() { return "default"; }
  get destination() { return ""; }
  get integrity() { return ""; }
  get keepalive() { return false; }
  get referrer() { return "about:client"; }
  get referrerPolicy() { return ""; }
  clone() {
    if (this._used) throw new TypeError("Request.clone: Body has already been consumed.");
    const r = new Request(this, { body: this._bytes === null ? null : this._bytes.slice(), method: this._method, headers: this._headers });
    return r;
  }
  get [Symbol.toStringTag]() { return "Request"; }
}

export class Response extends Body {
  constructor(body = null, init = {}) {
    super();
    const status = init.status === undefined ? 200 : Number(init.status);
    if (!Number.isInteger(status) || status < 200 || status > 599) throw new RangeError(`Failed to construct 'Response': The status provided (${init.status}) is outside the range [200, 599].`);
    const statusText = init.statusText === undefined ? "" : String(init.statusText);
    if (/[^\t\x20-\x7e\x80-\xff]/.test(statusText)) throw new TypeError("Invalid statusText");
    this._status = status;
    this._statusText = statusText;
    this._headers = new Headers(init.headers);
    setGuard(this._headers, "response");
    this._type = "default";
    this._urlList = [];
    this._redirected = false;
    let bytes = null;
    if (body !== null && body !== undefined) {
      if (NULL_BODY_STATUS.includes(status)) throw new TypeError(`Response constructor: Invalid response status code ${status}`);
      const [b, type] = extractBody(body);
      bytes = b;
      if (type && !this._headers.has("content-type")) this._headers.append("content-type", type);
    }
    this._initBody(bytes);
  }
  static json(data, init = {}) {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError("Value is not JSON serializable");
    const headers = new Headers(init.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new Response(text, { ...init, headers });
  }
  static redirect(url, status = 302) {
    const parsed = new URL(String(url));
    if (!REDIRECT_STATUS.includes(status)) throw new RangeError(`Failed to execute 'redirect' on 'Response': Invalid status code`);
    const r = new Response(null, { status, headers: { location: parsed.href } });
    setGuard(r._headers, "immutable");
    return r;
  }
  static error() {
    const r = new Response(null, { status: 200 });
    r._status = 0;
    r._type = "error";
    setGuard(r._headers, "immutable");
    return r;
  }
  get type() { return this._type; }
  get url() { return this._urlList.length ? this._urlList[this._urlList.length - 1] : ""; }
  get redirected() { return this._redirected; }
  get status() { return this._status; }
  get ok() { return this._status >= 200 && this._status <= 299; }
  get statusText() { return this._statusText; }
  get headers() { return this._headers; }
  clone() {
    if (this._used) throw new TypeError("Response.clone: Body has already been consumed.");
    const r = new Response(null, { headers: this._headers });
    r._status = this._status;
    r._statusText = this._statusText;
    r._type = this._type;
    r._urlList = this._urlList.slice();
    r._redirected = this._redirected;
    r._initBody(this._bytes === null ? null : this._bytes.slice());
    setGuard(r._headers, this._headers[Object.getOwnPropertySymbols(this._headers)[0]]);
    return r;
  }
  get [Symbol.toStringTag]() { return "Response"; }
}

/** A Response built from host data (any status, e.g. 101 is not possible but 0..599 are). */
export function responseFromHost(data, bytes) {
  const nullBody = NULL_BODY_STATUS.includes(data.status);
  const r = new Response(null, { headers: data.headers });
  r._status = data.status;
  r._statusText = data.statusText;
  r._urlList = data.url ? [data.url] : [];
  r._redirected = !!data.redirected;
  r._type = "basic";
  r._initBody(nullBody ? null : bytes);
  setGuard(r._headers, "immutable");
  return r;
}

export { AbortSignal };
