// Intl, and the built-ins' toLocale* methods, answered by the host's V8
// (QuickJS has no Intl). Formatter objects here hold their locales and
// options; every call names them, and the host keeps the formatter.
import { native } from "./native.js";

function enc(v) {
  // an Intl.Locale stands for its tag wherever locales are taken
  if (v instanceof Locale) return v.toString();
  if (v instanceof Date) return { $d: String(v.getTime()) };
  if (typeof v === "number") return Number.isFinite(v) && !Object.is(v, -0) ? v : { $n: Object.is(v, -0) ? "-0" : String(v) };
  if (typeof v === "bigint") return { $b: v.toString() };
  if (Array.isArray(v)) return v.map(enc);
  if (v && typeof v === "object") { const out = {}; for (const k of Object.keys(v)) out[k] = enc(v[k]); return out; }
  return v;
}

const ERRORS = { RangeError, TypeError, SyntaxError };

function host(req) {
  const r = JSON.parse(native.intl(JSON.stringify(req)));
  if (r.e) throw new (ERRORS[r.e.name] || Error)(r.e.message);
  return r.v;
}

const call = (k, l, o, m, a) => host({ k, l: enc(l), o: enc(o), m, a: enc(a) });
const proto = (s, a, l, o) => host({ s, a: enc(a), l: enc(l), o: enc(o) });

function base(kind) {
  return class {
    constructor(locales, options) {
      // resolve now: bad locales or options throw here, as in V8, and later calls see the same locale
      this._l = locales;
      this._o = options;
      this._ro = call(kind, locales, options, "resolvedOptions", []);
    }
    resolvedOptions() { return { ...this._ro }; }
    static supportedLocalesOf(locales, options) { return host({ k: kind, s: "supportedLocalesOf", l: enc(locales), o: enc(options) }); }
    get [Symbol.toStringTag]() { return `Intl.${kind}`; }
  };
}

const now = (d) => (d === undefined ? Date.now() : d);

class DateTimeFormat extends base("DateTimeFormat") {
  get format() { return (d) => call("DateTimeFormat", this._l, this._o, "format", [now(d)]); }
  formatToParts(d) { return call("DateTimeFormat", this._l, this._o, "formatToParts", [now(d)]); }
  formatRange(a, b) { return call("DateTimeFormat", this._l, this._o, "formatRange", [a, b]); }
  formatRangeToParts(a, b) { return call("DateTimeFormat", this._l, this._o, "formatRangeToParts", [a, b]); }
}
class NumberFormat extends base("NumberFormat") {
  get format() { return (n) => call("NumberFormat", this._l, this._o, "format", [n]); }
  formatToParts(n) { return call("NumberFormat", this._l, this._o, "formatToParts", [n]); }
  formatRange(a, b) { return call("NumberFormat", this._l, this._o, "formatRange", [a, b]); }
  formatRangeToParts(a, b) { return call("NumberFormat", this._l, this._o, "formatRangeToParts", [a, b]); }
}
class Collator extends base("Collator") {
  get compare() { return (a, b) => call("Collator", this._l, this._o, "compare", [String(a), String(b)]); }
}
class PluralRules extends base("PluralRules") {
  select(n) { return call("PluralRules", this._l, this._o, "select", [Number(n)]); }
  selectRange(a, b) { return call("PluralRules", this._l, this._o, "selectRange", [Number(a), Number(b)]); }
}
class RelativeTimeFormat extends base("RelativeTimeFormat") {
  format(v, unit) { return call("RelativeTimeFormat", this._l, this._o, "format", [Number(v), String(unit)]); }
  formatToParts(v, unit) { return call("RelativeTimeFormat", this._l, this._o, "formatToParts", [Number(v), String(unit)]); }
}
class ListFormat extends base("ListFormat") {
  format(list) { return call("ListFormat", this._l, this._o, "format", [[...list].map(String)]); }
  formatToParts(list) { return call("ListFormat", this._l, this._o, "formatToParts", [[...list].map(String)]); }
}
class DisplayNames extends base("DisplayNames") {
  of(code) { return call("DisplayNames", this._l, this._o, "of", [String(code)]); }
}
class Segmenter extends base("Segmenter") {
  segment(input) {
    const str = String(input);
    const parts = call("Segmenter", this._l, this._o, "segment", [str]);
    for (const p of parts) { p.input = str; if (p.isWordLike === null) delete p.isWordLike; }
    return {
      [Symbol.iterator]() { return parts[Symbol.iterator](); },
      containing(i = 0) { const n = Number(i); return parts.find((p) => n >= p.index && n < p.index + p.segment.length); },
    };
  }
}

/** What the host's V8 said of one Intl.Locale (its getters read it): see natives/intl.ts, localeRecord. */
const LOCALE = new WeakMap();
const LOCALE_FIELDS = ["language", "script", "region", "baseName", "calendar", "collation", "hourCycle", "caseFirst", "numeric", "numberingSystem",
  "calendars", "collations", "hourCycles", "numberingSystems", "textInfo", "timeZones", "weekInfo"];

function localeOf(l) {
  const r = LOCALE.get(l);
  if (!r) throw new TypeError("Method Intl.Locale.prototype called on an incompatible receiver");
  return r;
}

class Locale {
  constructor(tag, options) {
    if (typeof tag !== "string" && (tag === null || typeof tag !== "object")) throw new TypeError("First argument to Intl.Locale constructor can't be empty or missing");
    LOCALE.set(this, host({ k: "Locale", s: "Locale", l: tag instanceof Locale ? tag.toString() : String(tag), o: enc(options) }));
  }
  toString() { return localeOf(this).tag; }
  maximize() { return new Locale(localeOf(this).max); }
  minimize() { return new Locale(localeOf(this).min); }
  get [Symbol.toStringTag]() { return "Intl.Locale"; }
}
Object.defineProperty(Locale, "length", { value: 1 });
for (const k of LOCALE_FIELDS) {
  // a fresh copy on every read, as V8's getters make one
  Object.defineProperty(Locale.prototype, k, { get() { const v = localeOf(this)[k]; return v && typeof v === "object" ? JSON.parse(JSON.stringify(v)) : v; }, configurable: true, enumerable: false });
}

/** DateTimeFormat, NumberFormat and Collator may be called without `new` (ECMA-402's legacy constructors): `Intl.DateTimeFormat().resolvedOptions().timeZone`. */
function callable(C) {
  const F = function (locales, options) { return Reflect.construct(C, [locales, options], new.target || F); };
  Object.defineProperty(F, "name", { value: C.name });
  Object.defineProperty(F, "length", { value: 0 });
  F.prototype = C.prototype;
  Object.defineProperty(C.prototype, "constructor", { value: F, writable: true, configurable: true, enumerable: false });
  F.supportedLocalesOf = C.supportedLocalesOf;
  return F;
}

export const Intl = {
  DateTimeFormat: callable(DateTimeFormat), NumberFormat: callable(NumberFormat), Collator: callable(Collator), PluralRules, RelativeTimeFormat, ListFormat, DisplayNames, Segmenter, Locale,
  getCanonicalLocales: (l) => host({ k: "", s: "getCanonicalLocales", l: enc(l) }),
  supportedValuesOf: (key) => host({ k: "", s: "supportedValuesOf", l: String(key) }),
  get [Symbol.toStringTag]() { return "Intl"; },
};

const method = (o, name, fn) => Object.defineProperty(o, name, { value: fn, writable: true, configurable: true, enumerable: false });

/** Date/Number/BigInt/String locale methods answered as V8 answers them. */
export function installLocaleMethods() {
  method(Date.prototype, "toLocaleString", function toLocaleString(l, o) { return proto("Date.toLocaleString", [this], l, o); });
  method(Date.prototype, "toLocaleDateString", function toLocaleDateString(l, o) { return proto("Date.toLocaleDateString", [this], l, o); });
  method(Date.prototype, "toLocaleTimeString", function toLocaleTimeString(l, o) { return proto("Date.toLocaleTimeString", [this], l, o); });
  method(Number.prototype, "toLocaleString", function toLocaleString(l, o) { return proto("Number.toLocaleString", [Number(this)], l, o); });
  method(BigInt.prototype, "toLocaleString", function toLocaleString(l, o) { return proto("BigInt.toLocaleString", [this.valueOf()], l, o); });
  method(String.prototype, "localeCompare", function localeCompare(that, l, o) { return proto("String.localeCompare", [String(this), String(that)], l, o); });
  method(String.prototype, "toLocaleUpperCase", function toLocaleUpperCase(l) { return proto("String.toLocaleUpperCase", [String(this)], l); });
  method(String.prototype, "toLocaleLowerCase", function toLocaleLowerCase(l) { return proto("String.toLocaleLowerCase", [String(this)], l); });
  // ECMA-402: each element's toLocaleString gets the locales and options (QuickJS passes neither)
  const list = function toLocaleString(l, o) {
    const out = [];
    for (let i = 0; i < this.length; i++) { const e = this[i]; out.push(e === undefined || e === null ? "" : Object(e).toLocaleString(l, o)); }
    return out.join(",");
  };
  method(Array.prototype, "toLocaleString", list);
  method(Object.getPrototypeOf(Uint8Array.prototype), "toLocaleString", list);
}
