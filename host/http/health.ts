import { Hono } from "hono";
import type { Db } from "../db/index.ts";
import { withTimeout } from "../util/with-timeout.ts";

export interface HealthDeps {
  db: Db;
  version: string;
  nodeId: string;
}

/** `GET /_hangar/health`: database round trip and migration version; 503 when the database is unreachable. */
export function healthRoutes(deps: HealthDeps): Hono {
  const app = new Hono();
  app.get("/", async (c) => {
    const started = performance.now();
    try {
      const { rows } = await withTimeout(
        deps.db.query<{ v: number | null }>("select max(id) as v from hangar.migrations"),
        3_000,
        "database did not answer within 3000 ms",
      );
      const roundTripMs = Math.round((performance.now() - started) * 100) / 100;
      return c.json({
        status: "ok",
        version: deps.version,
        node: deps.nodeId,
        database: { ok: true, kind: deps.db.kind, roundTripMs, migration: rows[0]?.v ?? 0 },
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
