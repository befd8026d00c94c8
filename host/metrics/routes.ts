import { timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import type { Registry } from "prom-client";
import { errorResponse } from "../http/errors.ts";
import { clusterScrape } from "./cluster.ts";

/**
 * `GET /_hangar/metrics`: the instance's registry in the Prometheus text
 * format, for a bearer token among `tokens` (the admin token, and
 * HANGAR_METRICS_TOKEN when set): function names, traffic and errors are not
 * public. In a `start --workers N` worker, the figures of the whole instance
 * (every worker process, merged by the primary). Mount with `app.route("/_hangar/metrics", metricsRoutes(registry, tokens))`.
 */
export function metricsRoutes(registry: Registry, tokens: readonly (string | null | undefined)[]): Hono {
  const accepted = tokens.filter((t): t is string => !!t).map((t) => Buffer.from(t));
  const scrape = clusterScrape(registry) ?? (() => registry.metrics());
  const app = new Hono();
  app.get("/", async (c) => {
    const given = Buffer.from(/^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "")?.[1]?.trim() ?? "");
    if (!accepted.some((t) => t.length === given.length && timingSafeEqual(t, given))) {
      return errorResponse(c, 401, "UNAUTHORIZED", "metrics need Authorization: Bearer <HANGAR_ADMIN_TOKEN or HANGAR_METRICS_TOKEN>");
    }
    const body = await scrape();
    return c.body(body, 200, { "content-type": registry.contentType });
  });
  return app;
}
