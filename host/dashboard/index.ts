import { Hono, type MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { CSS, JS } from "./assets.ts";
import type { Ctx, Dash, DashboardDeps, DashEnv } from "./context.ts";
import { sameOrigin } from "./csrf.ts";
import { BASE } from "./layout.ts";
import { chartsPage } from "./pages/charts.ts";
import { cronPage } from "./pages/cron.ts";
import { eventPage, eventsPage, replayAllDead, replayEvent } from "./pages/events.ts";
import { functionPage, rollbackConfirm, rollbackPost } from "./pages/function.ts";
import { functionsPage } from "./pages/functions.ts";
import { healthPage } from "./pages/health.ts";
import { invocationPage } from "./pages/invocation.ts";
import { invocationFeed, invocationsPage } from "./pages/invocations.ts";
import { loginPage } from "./pages/login.ts";
import { secretSet, secretsPage, secretUnset } from "./pages/secrets.ts";
import { SESSION_COOKIE, SESSION_TTL_MS, Sessions } from "./session.ts";

export type { DashboardDeps } from "./context.ts";

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

/**
 * The web dashboard, mounted at `/_hangar` beside the health, metrics and
 * admin API routes. Guards are per route (not `use("*")`): a sub-app's
 * wildcard middleware would also catch `/_hangar/api` and `/_hangar/health`.
 */
export function dashboardRoutes(deps: DashboardDeps): Hono<DashEnv> {
  const sessions = new Sessions(deps.config.adminToken);
  const d: Dash = { deps, sessions, admin: { db: deps.db, config: deps.config, actor: "dashboard", runtime: deps.runtime, registry: deps.registry, invoker: deps.invoker } };
  const app = new Hono<DashEnv>();

  const headers: MiddlewareHandler<DashEnv> = async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
  };
  // Pages: no session sends the browser to the login form.
  const viewer: MiddlewareHandler<DashEnv> = async (c, next) => {
    const session = sessions.verify(getCookie(c, SESSION_COOKIE));
    if (!session) {
      if (c.req.header("accept")?.includes("application/json")) return c.json({ error: { code: "UNAUTHORIZED", message: "log in to the dashboard first" } }, 401);
      const here = new URL(c.req.url);
      return c.redirect(`${BASE}/login?next=${encodeURIComponent(here.pathname + here.search)}`, 303);
    }
    c.set("session", session);
    await next();
  };
  // Actions: same origin, a session, and the session's CSRF token, or refused.
  const actor: MiddlewareHandler<DashEnv> = async (c, next) => {
    const origin = sameOrigin(c);
    if (!origin.ok) return c.text(`Refused: ${origin.reason}.`, 403);
    const session = sessions.verify(getCookie(c, SESSION_COOKIE));
    if (!session) return c.text("Refused: not logged in (no valid session cookie).", 401);
    const body = await c.req.parseBody().catch(() => ({}));
    const form: Record<string, string> = {};
    for (const [k, v] of Object.entries(body)) if (typeof v === "string") form[k] = v;
    if (!sessions.csrfMatches(session, form._csrf ?? c.req.header("x-csrf-token"))) return c.text("Refused: the CSRF token is missing or wrong; reload the page.", 403);
    c.set("session", session);
    c.set("form", form);
    await next();
  };
  type Handler = (c: Ctx, d: Dash) => Promise<Response> | Response;
  const get = (path: string, handler: Handler) => app.get(path, headers, viewer, (c) => handler(c, d));
  const post = (path: string, handler: Handler) => app.post(path, headers, actor, (c) => handler(c, d));

  app.get("/assets/app.css", (c) => c.body(CSS, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=300" }));
  app.get("/assets/app.js", (c) => c.body(JS, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=300" }));

  app.get("/login", headers, (c) => c.html(loginPage({ next: c.req.query("next") })));
  app.post("/login", headers, async (c) => {
    const origin = sameOrigin(c);
    if (!origin.ok) return c.text(`Refused: ${origin.reason}.`, 403);
    const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const token = typeof body.token === "string" ? body.token.trim() : "";
    const next = safeNext(typeof body.next === "string" ? body.next : undefined);
    if (!token || !sessions.tokenMatches(token)) {
      return c.html(loginPage({ next, error: token ? "That admin token is not valid." : "Enter the admin token." }), 401);
    }
    const { cookie } = sessions.create();
    setCookie(c, SESSION_COOKIE, cookie, {
      path: BASE, httpOnly: true, sameSite: "Strict", secure: isHttps(c.req.url, c.req.header("x-forwarded-proto")), maxAge: SESSION_TTL_MS / 1000,
    });
    return c.redirect(next, 303);
  });
  post("/logout", (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: BASE });
    return c.redirect(`${BASE}/login`, 303);
  });

  get("/functions", functionsPage);
  get("/functions/:name", functionPage);
  get("/functions/:name/rollback", rollbackConfirm);
  post("/functions/:name/rollback", rollbackPost);
  get("/invocations", invocationsPage);
  get("/invocations/feed", invocationFeed);
  get("/invocations/:id", invocationPage);
  get("/charts", chartsPage);
  get("/events", eventsPage);
  get("/events/:id", eventPage);
  post("/events/:id/replay", replayEvent);
  post("/events/replay-dead", replayAllDead);
  get("/cron", cronPage);
  get("/secrets", secretsPage);
  post("/secrets/set", secretSet);
  post("/secrets/unset", secretUnset);
  get("/fleet", healthPage);
  return app;
}

/** Where to go after logging in: only a dashboard path, never another site. */
function safeNext(next: string | undefined): string {
  return next && next.startsWith(`${BASE}/`) && !next.startsWith("//") && !/[\\\r\n]/.test(next) ? next : `${BASE}/functions`;
}

function isHttps(url: string, forwardedProto: string | undefined): boolean {
  return (forwardedProto?.split(",")[0].trim() ?? new URL(url).protocol.replace(":", "")) === "https";
}

/** Mount the dashboard on an instance's app (`/_hangar/` and its pages). */
export function mountDashboard(app: Hono, deps: DashboardDeps): void {
  // `/_hangar/` (and without the slash) opens the first page; it sends the browser to log in when needed.
  app.get(BASE, (c) => c.redirect(`${BASE}/functions`, 302));
  app.get(`${BASE}/`, (c) => c.redirect(`${BASE}/functions`, 302));
  app.route(BASE, dashboardRoutes(deps) as unknown as Hono);
}
