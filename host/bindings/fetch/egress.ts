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

/**
 * Whether a URL's host and port are allowed by the list; null/undefined allows all.
 * An entry "host:port" allows that port only; a hostname entry without a port
 * allows the scheme's default port only (80/443), so an allowed name is not a
 * way to reach its other services. "*" allows everything; an IP-literal entry
 * (never from config, which names hosts) pins the address, any port.
 */
export function isUrlAllowed(url: URL, egress: readonly string[] | null | undefined): boolean {
  if (egress == null) return true;
  const port = url.port === "" ? null : url.port;
  const effective = port ?? (url.protocol === "https:" ? "443" : "80");
  for (const raw of egress) {
    const { host, port: wanted } = splitPort(raw);
    if (!isHostAllowed(url.hostname, [host])) continue;
    if (wanted !== null) {
      if (wanted === effective) return true;
    } else if (host === "*" || port === null || isIp(host)) return true;
  }
  return false;
}

/** "host:port", "[v6]:port" or a bare host / IPv6 address, split. */
export function splitPort(entry: string): { host: string; port: string | null } {
  const e = entry.trim();
  const bracket = /^(\[[^\]]+\])(?::(\d{1,5}))?$/.exec(e);
  if (bracket) return { host: bracket[1], port: bracket[2] === undefined ? null : String(Number(bracket[2])) };
  const m = /^([^:]+):(\d{1,5})$/.exec(e);
  return m ? { host: m[1], port: String(Number(m[2])) } : { host: e, port: null };
}

function isIp(pattern: string): boolean {
  const p = pattern.startsWith("[") ? pattern.slice(1, -1) : pattern;
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(p) || p.includes(":");
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
