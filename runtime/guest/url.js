// URL and URLSearchParams; parsing and serialising are Node's (WHATWG URL), over the bridge.
import { native } from "./native.js";
import { URL_FIELDS as FIELDS } from "../contract.js";

const update = Symbol("update");

// Without "%" there is nothing to percent-decode, and in well-formed text the
// UTF-8 round trip gives the same text: such a query is split here, no crossing.
// captured now: guest code may replace String.prototype's methods later
const isWellFormed = /** @type {(this: string) => boolean} */ (/** @type {any} */ (String.prototype).isWellFormed);
const isSimpleQuery = (s) => s.indexOf("%") === -1 && isWellFormed.call(s);
/** application/x-www-form-urlencoded parsing of a string isSimpleQuery accepts (indexed loop: cheaper than an iterator here). */
function parseSimple(s) {
  const list = [];
  const parts = s.split("&");
  for (let i = 0; i < parts.length; i++) {
    let part = parts[i];
    if (part === "") continue;
    if (part.indexOf("+") !== -1) part = part.replace(/\+/g, " ");
    const eq = part.indexOf("=");
    list.push(eq === -1 ? [part, ""] : [part.slice(0, eq), part.slice(eq + 1)]);
  }
  return list;
}

export class URLSearchParams {
  /** @param {URLSearchParams | Iterable<Iterable<string>> | Record<string, string> | string} [init] */
  constructor(init = "") {
    /** @type {[string, string][]} */
    this._list = [];
    this._url = null;
    if (init instanceof URLSearchParams) this._list = init._list.map((p) => [p[0], p[1]]);
    else if (typeof init === "object" && init !== null) {
      if (typeof init[Symbol.iterator] === "function") {
        for (const pair of /** @type {Iterable<Iterable<string>>} */ (init)) {
          const p = [...pair];
          if (p.length !== 2) throw new TypeError("Each query pair must be an iterable [name, value] tuple");
          this._list.push([String(p[0]), String(p[1])]);
        }
      } else {
        for (const k of Object.keys(init)) this._list.push([k, String(init[k])]);
      }
    } else {
      let s = String(init);
      if (s.startsWith("?")) s = s.slice(1);
      this._list = s === "" ? [] : isSimpleQuery(s) ? parseSimple(s) : JSON.parse(native.searchParamsParse(s));
    }
  }
  [update]() { if (this._url) this._url[update](this.toString()); }
  get size() { return this._list.length; }
  append(name, value) { this._list.push([String(name), String(value)]); this[update](); }
  delete(name, value) {
    name = String(name);
    this._list = this._list.filter((p) => !(p[0] === name && (value === undefined || p[1] === String(value))));
    this[update]();
  }
  get(name) {
    name = String(name);
    // plain loops here and in has: the interpreter pays per callback
    const list = this._list;
    for (let i = 0; i < list.length; i++) if (list[i][0] === name) return list[i][1];
    return null;
  }
  getAll(name) { name = String(name); return this._list.filter((p) => p[0] === name).map((p) => p[1]); }
  has(name, value) {
    name = String(name);
    const v = value === undefined ? undefined : String(value);
    const list = this._list;
    for (let i = 0; i < list.length; i++) if (list[i][0] === name && (v === undefined || list[i][1] === v)) return true;
    return false;
  }
  set(name, value) {
    name = String(name); value = String(value);
    const i = this._list.findIndex((p) => p[0] === name);
    if (i < 0) this._list.push([name, value]);
    else { this._list[i][1] = value; this._list = this._list.filter((p, j) => j <= i || p[0] !== name); }
    this[update]();
  }
  sort() {
    // stable sort by UTF-16 code units, as the spec says
    this._list = this._list.map((p, i) => /** @type {[[string, string], number]} */ ([p, i])).sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1])).map((x) => x[0]);
    this[update]();
  }
  forEach(cb, thisArg) { for (const [k, v] of this._list) cb.call(thisArg, v, k, this); }
  *entries() { for (let i = 0; i < this._list.length; i++) yield [this._list[i][0], this._list[i][1]]; }
  *keys() { for (const [k] of this.entries()) yield k; }
  *values() { for (const [, v] of this.entries()) yield v; }
  [Symbol.iterator]() { return this.entries(); }
  toString() { return native.searchParamsSerialize(JSON.stringify(this._list)); }
  get [Symbol.toStringTag]() { return "URLSearchParams"; }
}

// Records of recently parsed base-less inputs (the request's own URL among them,
// parsed by the host): parsing is a function of the input, and a record is never
// changed in place (a URL that changes gets a new one), so instances share them.
const known = new Map();
const KNOWN_MAX = 32;
const KNOWN_CHARS = 2048;

function remember(input, rec) {
  if (input.length > KNOWN_CHARS) return;
  if (known.size >= KNOWN_MAX) known.clear();
  known.set(input, rec);
}

/** The record of `href` as the host parsed it (for the request's URL). */
export function knownUrl(href, rec) { if (rec) remember(href, rec); }

function parse(input, base) {
  const s = String(input);
  if (base === undefined) {
    const rec = known.get(s);
    if (rec) return rec;
  }
  const r = native.urlParse(s, base === undefined ? undefined : String(base));
  if (r === null) return null;
  const rec = JSON.parse(r);
  if (base === undefined) remember(s, rec);
  return rec;
}

export class URL {
  constructor(url, base) {
    const rec = parse(url, base);
    if (rec === null) throw new TypeError(`Invalid URL: ${String(url)}`);
    this._rec = rec;
    this._params = null; // made on first use: most handlers never touch the query
  }
  static canParse(url, base) { return parse(url, base) !== null; }
  static parse(url, base) { try { return new URL(url, base); } catch { return null; } }
  [update](query) {
    // called by searchParams: an empty query drops the "?"
    const rec = JSON.parse(native.urlSet(this._rec.href, "search", query));
    if (query === "") rec.href = rec.href.replace(/\?(?=#|$)/, ""), rec.search = "";
    this._rec = rec;
  }
  _set(field, value) {
    this._rec = JSON.parse(native.urlSet(this._rec.href, field, String(value)));
    if ((field === "search" || field === "href") && this._params) this._params._list = new URLSearchParams(this._rec.search)._list;
  }
  get searchParams() {
    if (!this._params) {
      this._params = new URLSearchParams(this._rec.search);
      this._params._url = this;
    }
    return this._params;
  }
  toString() { return this._rec.href; }
  toJSON() { return this._rec.href; }
  get [Symbol.toStringTag]() { return "URL"; }
}

for (const f of FIELDS) {
  Object.defineProperty(URL.prototype, f, {
    get() { return this._rec[f]; },
    set: f === "origin" ? undefined : function (v) {
      if (f === "href" && parse(v) === null) throw new TypeError(`Invalid URL: ${String(v)}`);
      this._set(f, v);
    },
    enumerable: true,
    configurable: true,
  });
}
