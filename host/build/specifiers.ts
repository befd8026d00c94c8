// Deno-style package specifiers: `npm:`, `jsr:`, and esm.sh URLs that name an npm package.

export interface PackageSpec {
  /** npm package name; for jsr, its npm-compatible name `@jsr/scope__name`. */
  name: string;
  /** Version range as written ("" means any). */
  range: string;
  /** Subpath after the package, with its leading "/" ("" for the package itself). */
  sub: string;
}

const NPM_RE = /^((?:@[^/@]+\/)?[^/@]+)(?:@([^/]+))?(\/.*)?$/;

/** `npm:pkg@range/sub`, `npm:@scope/pkg@range/sub`, `npm:/pkg` (Deno allows the slash). */
export function parseNpm(spec: string): PackageSpec | null {
  const m = NPM_RE.exec(spec.replace(/^npm:\/?/, ""));
  if (!m) return null;
  return { name: m[1]!, range: m[2] ?? "", sub: m[3] ?? "" };
}

/** `jsr:@scope/name@range/sub` -> `@jsr/scope__name` (JSR's npm compatibility registry). */
export function parseJsr(spec: string): PackageSpec | null {
  const m = /^@([^/@]+)\/([^/@]+)(?:@([^/]+))?(\/.*)?$/.exec(spec.replace(/^jsr:\/?/, ""));
  if (!m) return null;
  return { name: `@jsr/${m[1]}__${m[2]}`, range: m[3] ?? "", sub: m[4] ?? "" };
}

/** `https://esm.sh/pkg@1.2.3/sub?target=...` -> `npm:pkg@1.2.3/sub`; null for esm.sh's internal paths and other hosts. */
export function esmShToNpm(url: string): string | null {
  const u = new URL(url);
  if (u.hostname !== "esm.sh") return null;
  const path = u.pathname.replace(/^\/+/, "");
  if (!path || /^(v\d+|stable|gh|jsr|pr|x)\//.test(path) || path.startsWith("*")) return null;
  const spec = parseNpm(path);
  if (!spec || /\.m?js$/.test(spec.sub)) return null;
  return `npm:${spec.name}${spec.range ? `@${spec.range}` : ""}${spec.sub}`;
}
