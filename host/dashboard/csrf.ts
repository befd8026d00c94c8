import type { Context } from "hono";

/**
 * Whether a state-changing request comes from the dashboard's own pages:
 * browsers send `Sec-Fetch-Site` and `Origin` on every POST, and a page on
 * another site cannot forge either. Clients without them (curl) still need
 * the session cookie and the CSRF token.
 */
export function sameOrigin(c: Context): { ok: true } | { ok: false; reason: string } {
  const site = c.req.header("sec-fetch-site");
  if (site && site !== "same-origin" && site !== "none") return { ok: false, reason: `Sec-Fetch-Site is "${site}"` };
  const origin = c.req.header("origin");
  if (origin !== undefined) {
    let host: string | null = null;
    try {
      host = origin === "null" ? null : new URL(origin).host;
    } catch {
      host = null;
    }
    if (host === null || host !== expectedHost(c)) return { ok: false, reason: `Origin ${origin} is not this dashboard's` };
  }
  return { ok: true };
}

function expectedHost(c: Context): string {
  // A proxy in front may rewrite Host; a cross-site page cannot set X-Forwarded-Host on a form post.
  return c.req.header("x-forwarded-host")?.split(",")[0].trim() || c.req.header("host") || new URL(c.req.url).host;
}
