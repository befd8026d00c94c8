import { Hono } from "hono";
import type { Invoker } from "../invoke/types.ts";
import type { ActiveFunction } from "../registry/index.ts";
import type { AuthResult } from "./auth.ts";
import { readCapped } from "../util/read-capped.ts";
import { errorResponse } from "./errors.ts";
import { sanitizeFraming } from "./framing.ts";

export interface FunctionRoutesDeps {
  invoker: Invoker;
  lookup(name: string): ActiveFunction | undefined;
  authenticate(fn: ActiveFunction, headers: Headers): Promise<AuthResult>;
  maxBodyBytes: number;
}

/** `ANY /functions/v1/<name>[/<rest>]`: the full request in, the guest's response out. */
export function functionRoutes(deps: FunctionRoutesDeps): Hono {
  const app = new Hono();
  const handle = async (c: import("hono").Context) => {
    const name = c.req.param("name")!;
    const fn = deps.lookup(name);
    if (!fn) return errorResponse(c, 404, "NOT_FOUND", `function "${name}" is not deployed`);
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > deps.maxBodyBytes) return tooLarge(c, deps.maxBodyBytes);
    const auth = await deps.authenticate(fn, c.req.raw.headers);
    if (!auth.ok) return errorResponse(c, auth.status, auth.code, auth.message);
    let body: Uint8Array | null = null;
    const method = c.req.method;
    // Touching `.body` makes the node adapter build a full Request: only do it when a body may come.
    if (method !== "GET" && method !== "HEAD") {
      if (c.req.header("content-length") !== undefined) {
        // Declared and already checked against the cap: the adapter's direct read is the fast path.
        body = new Uint8Array(await c.req.raw.arrayBuffer());
      } else if (c.req.raw.body) {
        body = await readCapped(c.req.raw.body, deps.maxBodyBytes);
        if (!body) return tooLarge(c, deps.maxBodyBytes);
      }
    }
    const headers = new Headers(c.req.raw.headers);
    headers.set("x-request-id", c.get("requestId"));
    const request = new Request(c.req.url, { method, headers, body: body && body.byteLength ? (body as Uint8Array<ArrayBuffer>) : null });
    const result = await deps.invoker.invoke({
      functionName: name,
      trigger: "http",
      request,
      requestId: c.get("requestId"),
      correlationId: c.get("correlationId") ?? null,
      auth: auth.claims,
    });
    return sanitizeFraming(result.response!);
  };
  app.all("/:name", handle);
  app.all("/:name/*", handle);
  return app;
}

function tooLarge(c: import("hono").Context, max: number): Response {
  return errorResponse(c, 413, "PAYLOAD_TOO_LARGE", `request body exceeds the limit of ${max} bytes`);
}
