import type { Context } from "hono";
import type { AdminContext } from "../admin/types.ts";
import type { HangarConfig } from "../config/index.ts";
import type { Db } from "../db/index.ts";
import { HangarError, UserError } from "../errors.ts";
import type { Invoker } from "../invoke/types.ts";
import type { Runtime } from "../../runtime/index.ts";
import { BASE, page, type PageOptions } from "./layout.ts";
import type { Safe } from "./html.ts";
import type { Session, Sessions } from "./session.ts";

export interface DashboardDeps {
  db: Db;
  config: HangarConfig;
  version: string;
  /** This instance's sandbox runtime (warm instance count on the health page). */
  runtime?: Runtime;
  invoker?: Invoker;
  /** This instance's registry: a rollback from the dashboard is served here before the page answers. */
  registry?: AdminContext["registry"];
}

export type DashEnv = { Variables: { session: Session; form: Record<string, string> } };
export type Ctx = Context<DashEnv>;

/** What every page handler gets. */
export interface Dash {
  deps: DashboardDeps;
  sessions: Sessions;
  /** The admin context the per-area operations run with; actions are recorded as "dashboard". */
  admin: AdminContext;
}

/** Render a page for the logged-in user, with the notice carried by `?ok=` / `?err=` after a redirect. */
export function render(c: Ctx, o: Omit<PageOptions, "session" | "notice">, body: Safe, status: 200 | 400 | 404 = 200): Response {
  const ok = c.req.query("ok");
  const err = c.req.query("err");
  const notice = err ? { kind: "error" as const, text: err } : ok ? { kind: "ok" as const, text: ok } : null;
  return c.html(page({ ...o, session: c.get("session"), notice }, body), status);
}

/** Post/redirect/get: back to a dashboard page with a one-line outcome. */
export function redirect(c: Ctx, path: string, outcome: { ok?: string; err?: string }): Response {
  const u = new URL(`${BASE}${path}`, "http://x");
  if (outcome.ok) u.searchParams.set("ok", outcome.ok);
  if (outcome.err) u.searchParams.set("err", outcome.err);
  return c.redirect(u.pathname + u.search, 303);
}

/** Run an admin operation, turning a user-level failure into its message. */
export async function attempt<T>(fn: () => Promise<T>): Promise<{ value: T } | { error: string }> {
  try {
    return { value: await fn() };
  } catch (err) {
    if (err instanceof UserError || err instanceof HangarError) return { error: err.message };
    throw err;
  }
}

export function field(c: Ctx, name: string): string {
  return (c.get("form")[name] ?? "").trim();
}

export type { HangarConfig };

/** The origin clients reach this instance at (a proxy's forwarded host and scheme when present). */
export function originOf(c: Ctx): string {
  const u = new URL(c.req.url);
  const host = c.req.header("x-forwarded-host")?.split(",")[0].trim() || c.req.header("host") || u.host;
  const proto = c.req.header("x-forwarded-proto")?.split(",")[0].trim() || u.protocol.replace(":", "");
  return `${proto}://${host}`;
}
