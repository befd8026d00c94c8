// Headers per the Fetch standard: ordered list, lower-cased names, set-cookie kept apart.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const guardKey = Symbol("guard");

// Validation runs in the interpreter on every append: common names are
// remembered once valid, and values take one C-level regex test.
const WS = (c) => c === 32 || c === 9 || c === 10 || c === 13;
const VALID_NAMES = new Set();
const BAD_VALUE = /[\0\r\n]|[^\0-\xff]/;

function normalizeValue(v) {
  v = String(v);
  if (v.length === 0 || (!WS(v.charCodeAt(0)) && !WS(v.charCodeAt(v.length - 1)))) return v;
  return v.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
}
function checkName(name) {
  if (VALID_NAMES.has(name)) return;
  if (!TOKEN.test(name)) throw new TypeError(`Header name must be a valid HTTP token ["${name}"]`);
  if (VALID_NAMES.size < 512) VALID_NAMES.add(name);
}
function checkValue(name, value) {
  const bad = BAD_VALUE.exec(value);
  if (!bad) return;
  if (bad[0].charCodeAt(0) > 255) throw new TypeError(`Cannot convert header "${name}" value to ByteString`);
  throw new TypeError(`Invalid value for header "${name}"`);
}

export class Headers {
  constructor(init) {
    /** @type {[string, string][]} */
    this._list = [];
    this[guardKey] = "none";
    if (init === undefined || init === null) return;
    if (init instanceof Headers) { for (const [k, v] of init._list) this._list.push([k, v]); return; }
    if (typeof init !== "object") throw new TypeError("Failed to construct 'Headers': The provided value is not of type 'HeadersInit'");
    if (typeof init[Symbol.iterator] === "function") {
      for (const pair of init) {
        const p = Array.isArray(pair) ? pair : typeof pair === "string" ? null : [...pair];
        if (!p || p.length !== 2) throw new TypeError("Failed to construct 'Headers': Invalid value");
        this.append(p[0], p[1]);
      }
    } else {
      for (const k of Object.keys(init)) this.append(k, init[k]);
    }
  }
  _check() { if (this[guardKey] === "immutable") throw new TypeError("Headers are immutable"); }
  append(name, value) {
    name = String(name); value = normalizeValue(value);
    checkName(name); checkValue(name, value); this._check();
    this._list.push([name.toLowerCase(), value]);
  }
  delete(name) {
    name = String(name); checkName(name); this._check();
    const lower = name.toLowerCase();
    this._list = this._list.filter((p) => p[0] !== lower);
  }
  get(name) {
    name = String(name); checkName(name);
    const lower = name.toLowerCase();
    // a plain loop: the interpreter pays per callback, and most lists hold a handful of headers
    const list = this._list;
    let out = null;
    for (let i = 0; i < list.length; i++) if (list[i][0] === lower) out = out === null ? list[i][1] : `${out}, ${list[i][1]}`;
    return out;
  }
  getSetCookie() { return this._list.filter((p) => p[0] === "set-cookie").map((p) => p[1]); }
  has(name) {
    name = String(name); checkName(name);
    const lower = name.toLowerCase();
    const list = this._list;
    for (let i = 0; i < list.length; i++) if (list[i][0] === lower) return true;
    return false;
  }
  set(name, value) {
    name = String(name); value = normalizeValue(value);
    checkName(name); checkValue(name, value); this._check();
    const lower = name.toLowerCase();
    const i = this._list.findIndex((p) => p[0] === lower);
    if (i < 0) this._list.push([lower, value]);
    else { this._list[i][1] = value; this._list = this._list.filter((p, j) => j <= i || p[0] !== lower); }
  }
  /** Sorted and combined, with each set-cookie on its own (the spec's "sort and combine"). */
  _sorted() {
    const names = [...new Set(this._list.map((p) => p[0]))].sort();
    const out = [];
    for (const n of names) {
      if (n === "set-cookie") for (const v of this.getSetCookie()) out.push([n, v]);
      else out.push([n, this.get(n)]);
    }
    return out;
  }
  forEach(cb, thisArg) { for (const [k, v] of this._sorted()) cb.call(thisArg, v, k, this); }
  *entries() { yield* this._sorted(); }
  *keys() { for (const [k] of this._sorted()) yield k; }
  *values() { for (const [, v] of this._sorted()) yield v; }
  [Symbol.iterator]() { return this.entries(); }
  get [Symbol.toStringTag]() { return "Headers"; }
}

export function setGuard(headers, guard) { headers[guardKey] = guard; return headers; }
/** Raw [name, value] pairs in insertion order, every set-cookie kept. */
export function headerPairs(headers) { return headers._list.map((p) => [p[0], p[1]]); }
