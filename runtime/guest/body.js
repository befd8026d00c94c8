// Request and Response. A body is bytes (what the host hands over), text (what
// most functions build: kept as the string and encoded by the host when it
// leaves, or here when someone wants its bytes) or a ReadableStream; a stream
// is made from bytes only when someone asks for .body.
import { Headers, setGuard } from "./headers.js";
import { URL, URLSearchParams, knownUrl } from "./url.js";
import { TextEncoder, TextDecoder } from "./encoding.js";
import { AbortController, AbortSignal } from "./events.js";
import { bytesOf } from "./native.js";
import { isReadableStream, isDisturbed, streamOfBytes, readAll, pulledStream } from "./streams.js";
import { hostCall } from "./bridge.js";
import { Blob, FormData, blobBytes, encodeMultipart, parseFormBody } from "./forms.js";

const encoder = new TextEncoder();
const NULL_BODY_STATUS = [101, 103, 204, 205, 304];
const REDIRECT_STATUS = [301, 302, 303, 307, 308];
const FORBIDDEN_METHODS = ["CONNECT", "TRACE", "TRACK"];
const NORMALIZED_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"];
const EMPTY = new Uint8Array(0);
const TEXT_TYPE = "text/plain;charset=UTF-8";
const FORM_TYPE = "application/x-www-form-urlencoded;charset=UTF-8";
const JSON_TYPE = "application/json";
/** Text bodies up to this many characters stay strings (the host encodes them); longer ones are encoded at once, under the encoder's bounds. */
const TEXT_BODY_CHARS = 256 * 1024;

/** A string body: kept as text while it is small, else its UTF-8 bytes. */
const textBody = (s) => (s.length <= TEXT_BODY_CHARS ? s : encoder.encode(s));
// captured now: guest code may replace String.prototype's methods later
const isWellFormed = /** @type {(this: string) => boolean} */ (/** @type {any} */ (String.prototype).isWellFormed);

/** [bytes or text | null, content-type | null, stream | null] for a BodyInit. */
export function extractBody(body) {
  if (body === null || body === undefined) return [null, null, null];
  if (typeof body === "string") return [textBody(body), TEXT_TYPE, null];
  if (body instanceof URLSearchParams) return [textBody(body.toString()), FORM_TYPE, null];
  const bytes = bytesOf(body);
  if (bytes) return [bytes.slice(), null, null];
  if (body instanceof Blob) return [blobBytes(body).slice(), body.type || null, null];
  if (body instanceof FormData) { const [b, type] = encodeMultipart(body); return [b, type, null]; }
  if (isReadableStream(body)) {
    if (body.locked || isDisturbed(body)) throw new TypeError("Response body object should not be disturbed or locked");
    return [null, null, body];
  }
  return [textBody(String(body)), TEXT_TYPE, null];
}

/** Append the body's content-type unless there is one; our own constant types need no validation. */
function addContentType(headers, type) {
  const list = headers._list;
  for (let i = 0; i < list.length; i++) if (list[i][0] === "content-type") return;
  if (type === TEXT_TYPE || type === FORM_TYPE || type === JSON_TYPE) list.push(["content-type", type]);
  else headers.append("content-type", type); // a Blob's type: validated and normalised as any value
}

class Body {
  /** @param {Uint8Array | string | null} bytes */
  _initBody(bytes, source = null) { this._bytes = bytes; this._source = source; this._used = false; this._stream = null; }
  /** `_bytes` as bytes (a text body is encoded once, here). */
  _encoded() {
    if (typeof this._bytes === "string") this._bytes = encoder.encode(this._bytes);
    return this._bytes;
  }
  get body() {
    if (this._source) return this._source;
    if (this._bytes === null) return null;
    if (!this._stream) this._stream = streamOfBytes(this._encoded());
    return this._stream;
  }
  get bodyUsed() {
    const s = this._source || this._stream;
    return this._used || (s !== null && isDisturbed(s));
  }
  /** True when the body is (still) exactly `_bytes`. */
  get _plain() { return this._source === null && (this._stream === null || (!this._stream.locked && !isDisturbed(this._stream))); }
  /** The bytes of a body that is not a stream, marking it used. */
  _consume() {
    const b = this._consumeForHost();
    return b === null ? EMPTY : typeof b === "string" ? this._encoded() : b;
  }
  /** Like _consume, but a text body comes as its string (for the host, which encodes it) and no body as null. */
  _consumeForHost() {
    if (this.bodyUsed) throw new TypeError("Body is unusable: Body has already been read");
    if (!this._plain) throw new TypeError("Body is a stream: read it with await");
    this._used = true;
    return this._bytes;
  }
  /** Every byte of the body, marking it used (reads a stream to its end). */
  async _read() {
    if (this._plain) return this._consume();
    if (this.bodyUsed) throw new TypeError("Body is unusable: Body has already been read");
    const s = this._source || this._stream;
    if (s.locked) throw new TypeError("Body is unusable: the body stream is locked");
    this._used = true;
    return readAll(s);
  }
  /** Bytes or null, for handing the body to the host. */
  async _takeForHost() {
    if (this._bytes === null && this._source === null) return null;
    return this._read();
  }
  /** A body for a clone: bytes are copied, a stream is teed. */
  _cloneBody() {
    if (this.bodyUsed) throw new TypeError(`${this[Symbol.toStringTag]}.clone: Body has already been consumed.`);
    if (this._plain) return [this._bytes === null || typeof this._bytes === "string" ? this._bytes : this._bytes.slice(), null];
    const s = this._source || this._stream;
    const [a, b] = s.tee();
    this._source = a;
    return [null, b];
  }
  async arrayBuffer() { return (await this._read()).slice().buffer; }
  async bytes() { return (await this._read()).slice(); }
  async text() {
    // well-formed text decodes to itself, unless it starts with a BOM (which decoding drops); lone surrogates become U+FFFD
    const t = this._bytes;
    if (typeof t === "string" && this._plain && !this.bodyUsed && t.charCodeAt(0) !== 0xfeff && isWellFormed.call(t)) { this._used = true; return t; }
    return new TextDecoder().decode(await this._read());
  }
  async json() { return JSON.parse(await this.text()); }
  /** @this {Body & { headers: Headers }} */
  async formData() { const ct = this.headers.get("content-type"); return parseFormBody(await this._read(), ct); }
  /** @this {Body & { headers: Headers }} */
  async blob() { return new Blob([await this._read()], { type: this.headers.get("content-type") || "" }); }
}

// Marks a request the host built: its URL is already serialised, its method
// normalised and its header names lower-cased, so nothing is parsed again.
const FROM_HOST = {};

/**
 * The incoming request of invocation `invId`, without re-validating what the host already did.
 * A large or unknown-length body comes as a stream the guest pulls from the host ("request.read").
 */
export function hostRequest(r, invId) {
  knownUrl(r.url, r.parsed);
  const req = new Request(FROM_HOST, r);
  if (r.stream) req._initBody(null, pulledStream(() => hostCall("request.read", [invId]), () => { hostCall("request.read", [invId, "cancel"]).catch(() => {}); }).stream);
  return req;
}

export class Request extends Body {
  constructor(input, init = {}) {
    super();
    if (input === FROM_HOST) {
      this._url = init.url;
      this._method = init.method;
      this._headers = new Headers();
      this._headers._list = init.headers; // decoded for this request alone: nobody else holds it
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
    // without a signal to follow nothing can abort this request: its signal is made on first use, and fetch()
    // skips the abort race (src._signal: a Request whose signal was never made has none to follow either)
    const parentSignal = init.signal !== undefined ? init.signal : src ? src._signal : null;
    this._signal = null;
    if (parentSignal) {
      const controller = new AbortController();
      if (parentSignal.aborted) controller.abort(parentSignal.reason);
      else parentSignal.addEventListener("abort", () => controller.abort(parentSignal.reason), { once: true });
      this._signal = controller.signal;
    }
    let bytes = null, source = null;
    if (init.body !== undefined && init.body !== null) {
      if (method === "GET" || method === "HEAD") throw new TypeError("Request with GET/HEAD method cannot have body.");
      const [b, type, s] = extractBody(init.body);
      bytes = b;
      source = s;
      if (type) addContentType(this._headers, type);
    } else if (src && init.body === undefined && (src._bytes !== null || src._source !== null)) {
      if (src.bodyUsed) throw new TypeError("Cannot construct a Request with a Request object that has already been used.");
      if (src._plain) { bytes = src._bytes; src._used = true; }
      else { source = src._source || src._stream; src._source = null; src._used = true; }
    }
    this._initBody(bytes, source);
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
    const [bytes, source] = this._cloneBody();
    const r = new Request(this, { body: null, method: this._method, headers: this._headers });
    r._initBody(bytes, source);
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
    if (statusText !== "" && /[^\t\x20-\x7e\x80-\xff]/.test(statusText)) throw new TypeError("Invalid statusText");
    this._status = status;
    this._statusText = statusText;
    this._headers = new Headers(init.headers);
    setGuard(this._headers, "response");
    this._type = "default";
    this._urlList = [];
    this._redirected = false;
    let bytes = null, source = null;
    if (body !== null && body !== undefined) {
      if (NULL_BODY_STATUS.includes(status)) throw new TypeError(`Response constructor: Invalid response status code ${status}`);
      const [b, type, s] = extractBody(body);
      bytes = b;
      source = s;
      if (type) addContentType(this._headers, type);
    }
    this._initBody(bytes, source);
  }
  static json(data, init = {}) {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError("Value is not JSON serializable");
    // the spec's steps: initialise from init (status, statusText, headers), then the body and its type
    const r = new Response(null, init);
    if (NULL_BODY_STATUS.includes(r._status)) throw new TypeError(`Response constructor: Invalid response status code ${r._status}`);
    addContentType(r._headers, JSON_TYPE);
    r._initBody(textBody(text));
    return r;
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
    const [bytes, source] = this._cloneBody();
    const r = new Response(null, { headers: this._headers });
    r._status = this._status;
    r._statusText = this._statusText;
    r._type = this._type;
    r._urlList = this._urlList.slice();
    r._redirected = this._redirected;
    r._initBody(bytes, source);
    setGuard(r._headers, this._headers[Object.getOwnPropertySymbols(this._headers)[0]]);
    return r;
  }
  get [Symbol.toStringTag]() { return "Response"; }
}

/** A Response built from host data (any status, e.g. 101 is not possible but 0..599 are). */
export function responseFromHost(data, bytes, stream = null) {
  const nullBody = NULL_BODY_STATUS.includes(data.status);
  const r = new Response(null, { headers: data.headers });
  r._status = data.status;
  r._statusText = data.statusText;
  r._urlList = data.url ? [data.url] : [];
  r._redirected = !!data.redirected;
  r._type = "basic";
  if (nullBody && stream) stream.cancel().catch(() => {});
  r._initBody(nullBody ? null : bytes, nullBody ? null : stream);
  setGuard(r._headers, "immutable");
  return r;
}

export { AbortSignal };
