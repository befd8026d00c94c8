/** "3 s ago", "5 min ago", ... relative to `now`. */
export function ago(iso: string | Date | null, now = Date.now()): string {
  if (!iso) return "never";
  const t = typeof iso === "string" ? Date.parse(iso) : iso.getTime();
  const s = Math.round((now - t) / 1000);
  if (s < 0) return `in ${span(-s)}`;
  return `${span(s)} ago`;
}

function span(s: number): string {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/** ISO time shortened for tables: "2026-12-02 18:04:05Z". */
export function when(iso: string | Date | null): string {
  if (!iso) return "";
  const d = typeof iso === "string" ? new Date(iso) : iso;
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

/** Wall-clock time in an IANA zone, for cron: "2026-12-03 00:00 (Europe/Berlin)". */
export function inZone(iso: string | null, timeZone: string): string {
  if (!iso) return "never";
  try {
    const f = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
    const p = Object.fromEntries(f.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${timeZone}`;
  } catch {
    return when(iso);
  }
}

export function ms(n: number | null | undefined): string {
  if (n === null || n === undefined) return "";
  return n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${n < 10 ? n.toFixed(2) : Math.round(n)} ms`;
}

export { formatBytes as bytes } from "../util/bytes.ts";

export function pct(part: number, whole: number): string {
  return whole ? `${((100 * part) / whole).toFixed(part && part < whole / 100 ? 2 : 1)}%` : "0%";
}
