import { Hono, type Context } from "hono";
import { errorResponse } from "./errors.ts";
import { healthRoutes, type HealthDeps } from "./health.ts";
import { requestId } from "./request-id.ts";
import { INTERNAL_MESSAGE } from "./result.ts";

export interface AppDeps extends HealthDeps {
  /** Extra route groups mounted by the server (functions, admin API, metrics). */
  mount?: (app: Hono) => void;
  /** dev: an unexpected error's message goes to the client; in production only a generic one and the request id do. */
  expose?: boolean;
  /** Where unexpected errors are reported (with the request id) when the client is not told. */
  onUnexpected?: (err: Error, requestId: string) => void;
}

/** The Hono app of one instance. Testable in process with `app.request()`. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.use("*", requestId);
  app.route("/_hangar/health", healthRoutes(deps));
  deps.mount?.(app);
  app.notFound((c) => errorResponse(c, 404, "NOT_FOUND", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  app.onError((err, c) => {
    if (deps.expose) return errorResponse(c, 500, "INTERNAL", err.message);
    deps.onUnexpected?.(err, (c as Context).get("requestId") as string);
    return errorResponse(c, 500, "INTERNAL", INTERNAL_MESSAGE);
  });
  return app;
}
