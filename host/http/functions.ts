import { Hono, type Context, type Next } from "hono";
import type { Invoker } from "../invoke/types.ts";
import type { ActiveFunction } from "../registry/index.ts";
import type { AuthResult } from "./auth.ts";
import { readCapped } from "../util/read-capped.ts";
import { errorResponse } from "./errors.ts";
import { responseOf } from "./result.ts";

export interface FunctionRoutesDeps {
  invoker: Invoker;
  lookup(name: string): ActiveFunction | undefined;
  authenticate(fn: ActiveFunction, headers: Headers): Promise<AuthResult>;
  maxBodyBytes: number;
  /** dev: guest stacks and host error details in error bodies. */
  expose?: boolean;
  /** Where `functionRoutes` is mounted; stripped from the URL the guest sees. Default "/functions/v1". */
  mountPath?: string;
}

export interface RoutedFunctionsDeps extends Omit<FunctionRoutesDeps, "lookup" | "mountPath"> {
  /** The function whose `config.routes` serve this host (no port) and path. */
  route(hostname: string, pathname: string): ActiveFunction | undefined;
}

/** Paths Hangar answers itself: never handed to a routed function. */
const OWN_PREFIXES = ["/_hangar/", "/functions/v1/"];

/**
 * `ANY /functions/v1/<name>[/<rest>]`: the request in, the guest's response out. The guest sees
 * `/<name>[/<rest>]` with query and host kept (Supabase's convention).
 */
export function functionRoutes(deps: FunctionRoutesDeps): Hono {
  const app = new Hono();
  const mount = deps.mountPath ?? "/functions/v1";
  const handle = async (c: Context) => {
    const name = c.req.param("name")!;
    const fn = deps.lookup(name);
    if (!fn) return errorResponse(c, 404, "NOT_FOUND", `function "${name}" is not deployed`);
    return serve(deps, c, fn, unmount(c.req.url, mount));
  };
  app.all("/:name", handle);
  app.all("/:name/*", handle);
  return app;
}

/** Workers-style mounting: a request whose host and path match a function's `config.routes` goes to it, URL unchanged. */
export function routedFunctions(deps: RoutedFunctionsDeps): Hono {
  const app = new Hono();
  app.all("*", async (c: Context, next: Next) => {
    const url = new URL(c.req.url);
    const path = `${url.pathname}/`;
    if (OWN_PREFIXES.some((p) => path.startsWith(p))) return next();
    const fn = deps.route(url.hostname, url.pathname);
    if (!fn) return next();
    return serve(deps, c, fn, c.req.url);
  });
  return app;
}

async function serve(deps: Omit<FunctionRoutesDeps, "lookup">, c: Context, fn: ActiveFunction, guestUrl: string): Promise<Response> {
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
  const requestId = c.get("requestId") as string;
  const result = await deps.invoker.invoke({
    fn,
    functionName: fn.name,
    trigger: "http",
    request: { url: guestUrl, method, headers: guestHeaders(c, requestId), body: body && body.byteLength ? body : null },
    requestId,
    correlationId: c.get("correlationId") ?? null,
    auth: auth.claims,
  });
  return responseOf(result, { expose: deps.expose });
}

/**
 * The request's headers as lower-case pairs with the server's x-request-id, read
 * straight from the socket's raw headers when the Node adapter serves the
 * request (no Headers object is built); from the Request otherwise.
 */
function guestHeaders(c: Context, requestId: string): [string, string][] {
  const out: [string, string][] = [];
  const raw = (c.env as { incoming?: { rawHeaders?: string[] } } | undefined)?.incoming?.rawHeaders;
  if (raw) {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i].toLowerCase();
      if (name !== "x-request-id") out.push([name, raw[i + 1]]);
    }
  } else {
    c.req.raw.headers.forEach((v, k) => { if (k !== "x-request-id" && k !== "set-cookie") out.push([k, v]); });
    for (const v of c.req.raw.headers.getSetCookie()) out.push(["set-cookie", v]);
  }
  out.push(["x-request-id", requestId]);
  return out;
}

/** `url` with `mount` taken off the front of its path (`http://h/functions/v1/x?q` -> `http://h/x?q`). */
function unmount(url: string, mount: string): string {
  const pathAt = url.indexOf("/", url.indexOf("//") + 2);
  if (pathAt < 0 || !url.startsWith(`${mount}/`, pathAt)) return url;
  return url.slice(0, pathAt) + url.slice(pathAt + mount.length);
}

function tooLarge(c: Context, max: number): Response {
  return errorResponse(c, 413, "PAYLOAD_TOO_LARGE", `request body exceeds the limit of ${max} bytes`);
}
