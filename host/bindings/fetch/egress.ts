// Hostname allow-list ("egress" in function config). Patterns are exact names
// or "*.example.com", which matches any subdomain depth but not the apex.
// "*" alone matches every host. Address checks still apply to allowed hosts.

/** Lower-case, drop a trailing dot and IPv6 brackets: the form patterns compare against. */
export function normalizeHost(host: string): string {
  let h = host.toLowerCase();
  if (h.endsWith(".")) h = h.slice(0, -1);
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  return h;
}

/** Canonical form of a pattern; IP literals go through URL so "127.1" and "[::1]" match. */
function normalizePattern(pattern: string): string {
  const p = pattern.trim();
  if (p === "*") return p;
  if (p.startsWith("*.")) return `*.${normalizePattern(p.slice(2))}`;
  try {
    return normalizeHost(new URL(`http://${p.includes(":") && !p.startsWith("[") ? `[${p}]` : p}/`).hostname);
  } catch {
    return normalizeHost(p);
  }
}

/** Whether `hostname` (as WHATWG URL gives it) is allowed by the list; null/undefined allows all. */
export function isHostAllowed(hostname: string, egress: readonly string[] | null | undefined): boolean {
  if (egress == null) return true;
  const host = normalizeHost(hostname);
  for (const raw of egress) {
    const pattern = normalizePattern(raw);
    if (pattern === "*") return true;
    if (pattern.startsWith("*.")) {
      if (host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1) return true;
    } else if (host === pattern) {
      return true;
    }
  }
  return false;
}
