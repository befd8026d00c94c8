import { Hono } from "hono";
import { errorResponse } from "./errors.ts";
import { healthRoutes, type HealthDeps } from "./health.ts";
import { requestId } from "./request-id.ts";

export interface AppDeps extends HealthDeps {
  /** Extra route groups mounted by the server (functions, admin API, metrics). */
  mount?: (app: Hono) => void;
}

/** The Hono app of one instance. Testable in process with `app.request()`. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.use("*", requestId);
  app.route("/_hangar/health", healthRoutes(deps));
  deps.mount?.(app);
  app.notFound((c) => errorResponse(c, 404, "NOT_FOUND", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  app.onError((err, c) => errorResponse(c, 500, "INTERNAL", err.message));
  return app;
}
