// Intl for the guest (QuickJS has none): Node's own Intl does every format,
// so answers match V8's. Stateless: each call names the formatter (kind,
// locales, options); the host keeps recently used formatters.
import type { QuickJSContext } from "quickjs-emscripten-core";
import type { NativeFns, NativeTools } from "./index.ts";

const MAX_REQUEST = 1024 * 1024;
const CACHE = 256;

type Ctor = new (locales?: unknown, options?: unknown) => Record<string, (...a: unknown[]) => unknown>;
const KINDS: Record<string, Ctor> = {
  DateTimeFormat: Intl.DateTimeFormat as unknown as Ctor,
  NumberFormat: Intl.NumberFormat as unknown as Ctor,
  Collator: Intl.Collator as unknown as Ctor,
  PluralRules: Intl.PluralRules as unknown as Ctor,
  RelativeTimeFormat: Intl.RelativeTimeFormat as unknown as Ctor,
  ListFormat: Intl.ListFormat as unknown as Ctor,
  Segmenter: Intl.Segmenter as unknown as Ctor,
  DisplayNames: Intl.DisplayNames as unknown as Ctor,
};
const METHODS = new Set(["format", "formatToParts", "formatRange", "formatRangeToParts", "resolvedOptions", "compare", "select", "selectRange", "of", "segment"]);

/** Values JSON cannot carry: dates, non-finite numbers, -0, bigints. */
function revive(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if ("$d" in o) return new Date(Number(o.$d));
    if ("$n" in o) return Number(o.$n);
    if ("$b" in o) return BigInt(o.$b as string);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = revive(x);
    return out;
  }
  return v;
}

const LOCALE_FIELDS = ["language", "script", "region", "baseName", "calendar", "collation", "hourCycle", "caseFirst", "numeric", "numberingSystem",
  // Node 20's V8 has these as getters (later versions as getX() methods); absent ones are left out
  "calendars", "collations", "hourCycles", "numberingSystems", "textInfo", "timeZones", "weekInfo"];

/** Everything the guest's Intl.Locale answers, read once: its tag, maximized and minimized tags, and each property V8 has. */
function localeRecord(tag: unknown, options: unknown): Record<string, unknown> {
  const l = new Intl.Locale(tag as string, options as Intl.LocaleOptions);
  const rec: Record<string, unknown> = { tag: l.toString(), max: l.maximize().toString(), min: l.minimize().toString() };
  for (const f of LOCALE_FIELDS) if (f in l) rec[f] = (l as unknown as Record<string, unknown>)[f];
  return rec;
}

/** The built-ins' locale methods, run by V8 itself: `a[0]` is the receiver. */
const PROTO: Record<string, (a: unknown[], l: unknown, o: unknown) => unknown> = {
  "Date.toLocaleString": (a, l, o) => (a[0] as Date).toLocaleString(l as string, o as Intl.DateTimeFormatOptions),
  "Date.toLocaleDateString": (a, l, o) => (a[0] as Date).toLocaleDateString(l as string, o as Intl.DateTimeFormatOptions),
  "Date.toLocaleTimeString": (a, l, o) => (a[0] as Date).toLocaleTimeString(l as string, o as Intl.DateTimeFormatOptions),
  "Number.toLocaleString": (a, l, o) => (a[0] as number).toLocaleString(l as string, o as Intl.NumberFormatOptions),
  "BigInt.toLocaleString": (a, l, o) => (a[0] as bigint).toLocaleString(l as string, o as BigIntToLocaleStringOptions),
  "String.localeCompare": (a, l, o) => String(a[0]).localeCompare(String(a[1]), l as string, o as Intl.CollatorOptions),
  "String.toLocaleUpperCase": (a, l) => String(a[0]).toLocaleUpperCase(l as string),
  "String.toLocaleLowerCase": (a, l) => String(a[0]).toLocaleLowerCase(l as string),
};

function call(req: { k: string; l: unknown; o: unknown; m?: string; a?: unknown[]; s?: string }, cache: Map<string, Record<string, (...a: unknown[]) => unknown>>): unknown {
  const locales = revive(req.l);
  const options = revive(req.o);
  if (req.s) {
    // statics: supportedLocalesOf, getCanonicalLocales, supportedValuesOf
    if (req.s === "Locale") return localeRecord(locales, options);
    if (req.s === "getCanonicalLocales") return Intl.getCanonicalLocales(locales as string[]);
    if (req.s === "supportedValuesOf") return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf(String(locales));
    if (req.s === "supportedLocalesOf" && KINDS[req.k]) return (KINDS[req.k] as unknown as { supportedLocalesOf(l: unknown, o: unknown): string[] }).supportedLocalesOf(locales, options);
    if (req.s in PROTO) return PROTO[req.s](revive(req.a ?? []) as unknown[], locales, options);
    throw new TypeError(`Intl.${req.s} is not supported in Hangar`);
  }
  const Kind = KINDS[req.k];
  if (!Kind) throw new TypeError(`Intl.${req.k} is not supported in Hangar`);
  const key = JSON.stringify([req.k, req.l, req.o]);
  let f = cache.get(key);
  if (f) { cache.delete(key); cache.set(key, f); }
  else {
    f = new Kind(locales, options);
    cache.set(key, f);
    if (cache.size > CACHE) cache.delete(cache.keys().next().value!);
  }
  if (!req.m) return null;
  if (!METHODS.has(req.m) || typeof f[req.m] !== "function") throw new TypeError(`Intl.${req.k}.prototype.${req.m} is not supported in Hangar`);
  const out = f[req.m](...((revive(req.a ?? []) as unknown[])));
  if (req.m === "segment") return Array.from(out as Iterable<Record<string, unknown>>, (s) => ({ segment: s.segment, index: s.index, isWordLike: s.isWordLike }));
  return out;
}

export function intlNatives(ctx: QuickJSContext, t: NativeTools): NativeFns {
  const cache = new Map<string, Record<string, (...a: unknown[]) => unknown>>();
  return {
    intl: (json) => {
      const req = JSON.parse(t.str(json, "Intl", MAX_REQUEST));
      try {
        const out = call(req, cache);
        return t.newString("Intl", JSON.stringify({ v: out === undefined ? null : out }));
      } catch (e) {
        const err = e as Error;
        return t.newString("Intl", JSON.stringify({ e: { name: err?.name ?? "Error", message: err?.message ?? String(e) } }));
      }
    },
  };
}
