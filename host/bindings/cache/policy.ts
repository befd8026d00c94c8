// Whether and how long a response put in the cache is kept, from its headers,
// as Cloudflare's Cache API decides (its Cache-Control directives and Edge TTL
// defaults): s-maxage, then max-age, then Expires; no-store, no-cache and
// private are not stored, nor is Set-Cookie unless `private=Set-Cookie` asks
// to store the response without it.

/** Cloudflare's Edge TTL for a status without Cache-Control or Expires (seconds); other statuses are not cached. */
const DEFAULT_TTL: Record<number, number> = { 200: 7200, 203: 7200, 300: 7200, 301: 7200, 302: 1200, 303: 1200, 404: 180, 410: 180 };

function directives(value: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of value.split(",")) {
    const eq = part.indexOf("=");
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name) out.set(name, eq === -1 ? "" : part.slice(eq + 1).trim().replace(/^"|"$/g, ""));
  }
  return out;
}

function seconds(v: string | undefined): number | null {
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
}

/** How long (ms) to keep the response, and the headers to keep with it; null when it is not stored. */
export function storable(status: number, headers: [string, string][], now: number): { ttlMs: number; headers: [string, string][] } | null {
  const get = (name: string) => { const v = headers.filter(([k]) => k.toLowerCase() === name).map(([, x]) => x); return v.length ? v.join(", ") : undefined; };
  const cc = directives(get("cache-control") ?? "");
  let kept = headers;
  if (cc.has("no-store") || cc.has("no-cache")) return null;
  if (cc.has("private")) {
    const fields = cc.get("private")!.toLowerCase().split(",").map((s) => s.trim());
    if (!fields.includes("set-cookie")) return null;
    kept = headers.filter(([k]) => k.toLowerCase() !== "set-cookie");
  }
  if (kept.some(([k]) => k.toLowerCase() === "set-cookie")) return null;
  let ttl = seconds(cc.get("s-maxage")) ?? seconds(cc.get("max-age"));
  if (ttl === null) {
    const expires = get("expires");
    if (expires !== undefined) {
      const at = Date.parse(expires);
      ttl = Number.isNaN(at) ? 0 : (at - now) / 1000;
    }
  }
  ttl ??= DEFAULT_TTL[status] ?? 0;
  return ttl > 0 ? { ttlMs: ttl * 1000, headers: kept } : null;
}
