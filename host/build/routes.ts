// Workers-style route patterns (`config.routes`): parse, order by specificity, match a URL.
import type { Parsed } from "./config-fields.ts";

/** One parsed `config.routes` entry: `/path`, `/prefix*`, `host/path`, `*.host/prefix*`. */
export interface RoutePattern {
  /** As written, trimmed. */
  pattern: string;
  /** Lowercased hostname; `*.x.com` matches subdomains of x.com; null matches any host. */
  host: string | null;
  /** Path as written (starts with "/"); with `prefix`, the part before the trailing "*". */
  path: string;
  /** True when the pattern ended in "*": any path starting with `path`. */
  prefix: boolean;
}

/** Paths Hangar serves itself; a route may not claim them. */
export const RESERVED_PREFIXES = ["/_hangar", "/functions/v1"];
const HOST_RE = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Parses `"/api/*"`, `"/health"`, `"api.example.com/*"`, `"*.example.com/v1/*"`. */
export function parseRoute(entry: string): Parsed<RoutePattern> {
  const pattern = entry.trim();
  if (pattern === "") return { reason: "empty route" };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(pattern)) {
    return { reason: `"${entry}" has a scheme; write "host/path" or "/path", e.g. "${pattern.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "")}"` };
  }
  if (/[?#]/.test(pattern)) return { reason: `"${entry}" has a query or fragment; routes match host and path only` };
  const slash = pattern.indexOf("/");
  if (slash < 0) return { reason: `"${entry}" has no path; write "${pattern}/*" to mount the whole host` };
  const hostText = pattern.slice(0, slash).toLowerCase();
  let path = pattern.slice(slash);
  let host: string | null = null;
  if (hostText !== "") {
    if (/:\d*$/.test(hostText)) return { reason: `"${entry}": ports are not part of a route (the host matches on any port)` };
    if (!HOST_RE.test(hostText)) return { reason: `"${entry}": "${hostText}" is not a hostname (a leading "*." is the only wildcard allowed)` };
    host = hostText;
  }
  const prefix = path.endsWith("*");
  if (prefix) path = path.slice(0, -1);
  if (path.includes("*")) return { reason: `"${entry}": "*" is allowed only at the end of the path` };
  if (!host) {
    for (const r of RESERVED_PREFIXES) {
      if (path === r || path.startsWith(`${r}/`) || (prefix && r.startsWith(path) && path.length > 1)) {
        return { reason: `"${entry}" overlaps ${r}, which Hangar serves itself` };
      }
    }
  }
  return { value: { pattern, host, path, prefix } };
}

/** The key two functions may not share: identical host and path patterns. */
export function routeKey(r: RoutePattern): string {
  return `${r.host ?? ""}${r.path}${r.prefix ? "*" : ""}`;
}

/** Sort key: named host before wildcard host before any host; exact path before prefix; longer prefix first. */
function specificity(r: RoutePattern): number[] {
  const hostRank = r.host === null ? 0 : r.host.startsWith("*.") ? 1 : 2;
  return [hostRank, r.host?.length ?? 0, r.prefix ? 0 : 1, r.path.length];
}

/** Orders routes most specific first, so the first match is the most specific one. */
export function sortRoutes<T extends { route: RoutePattern }>(routes: T[]): T[] {
  return [...routes].sort((a, b) => {
    const x = specificity(a.route);
    const y = specificity(b.route);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return y[i]! - x[i]!;
    return 0;
  });
}

/** True when `url` (host without port, raw pathname) falls under `r`. */
export function routeMatches(r: RoutePattern, hostname: string, pathname: string): boolean {
  if (r.host !== null) {
    const h = hostname.toLowerCase();
    if (r.host.startsWith("*.")) {
      if (!h.endsWith(r.host.slice(1))) return false;
    } else if (h !== r.host) return false;
  }
  return r.prefix ? pathname.startsWith(r.path) : pathname === r.path;
}
