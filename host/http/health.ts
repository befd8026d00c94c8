import { Hono } from "hono";
import type { Db } from "../db/index.ts";
import { withTimeout } from "../util/with-timeout.ts";

export interface HealthDeps {
  db: Db;
  version: string;
  nodeId: string;
}

/**
 * The embedded database runs one statement at a time, to its end: a probe
 * queued behind a long one (or an open transaction) would wait for it. Once
 * the probe has waited this long behind a taken session, it says "busy".
 */
const BUSY_AFTER_MS = 250;
const TIMEOUT_MS = 3_000;

/** `GET /_hangar/health`: database round trip and migration version; 503 when the database is unreachable. */
export function healthRoutes(deps: HealthDeps): Hono {
  const app = new Hono();
  /** Known once the database has answered a probe: a busy answer reports it. */
  let migration: number | null = null;
  app.get("/", async (c) => {
    const started = performance.now();
    try {
      const answer = deps.db.query<{ v: number | null }>("select max(id) as v from hangar.migrations");
      // A probe that arrives just as a long statement starts waits a moment before the session reads as busy.
      while (deps.db.busyMs && migration !== null && performance.now() - started < TIMEOUT_MS && !(await settlesWithin(answer, BUSY_AFTER_MS))) {
        const busyMs = deps.db.busyMs();
        if (busyMs === null || busyMs < BUSY_AFTER_MS) continue;
        answer.catch(() => {});
        return c.json({
          status: "ok",
          version: deps.version,
          node: deps.nodeId,
          database: { ok: true, kind: deps.db.kind, busy: true, busyMs: Math.round(busyMs), migration },
        });
      }
      const { rows } = await withTimeout(answer, Math.max(1, TIMEOUT_MS - (performance.now() - started)), `database did not answer within ${TIMEOUT_MS} ms`);
      migration = rows[0]?.v ?? 0;
      const roundTripMs = Math.round((performance.now() - started) * 100) / 100;
      return c.json({
        status: "ok",
        version: deps.version,
        node: deps.nodeId,
        database: { ok: true, kind: deps.db.kind, roundTripMs, migration },
      });
    } catch (err) {
      return c.json(
        { status: "unavailable", version: deps.version, node: deps.nodeId, database: { ok: false, kind: deps.db.kind, error: (err as Error).message } },
        503,
      );
    }
  });
  return app;
}

function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(() => true, () => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]).finally(() => clearTimeout(timer));
}
