import { Hono } from "hono";
import type { Registry } from "prom-client";

/** `GET /_hangar/metrics`: the instance's registry in the Prometheus text format. Mount with `app.route("/_hangar/metrics", metricsRoutes(registry))`. */
export function metricsRoutes(registry: Registry): Hono {
  const app = new Hono();
  app.get("/", async (c) => {
    const body = await registry.metrics();
    return c.body(body, 200, { "content-type": registry.contentType });
  });
  return app;
}
