import { Hono, type Context, type Next } from "hono";
import type { Invoker } from "../invoke/types.ts";
import type { ActiveFunction } from "../registry/index.ts";
import type { AuthResult } from "./auth.ts";
import { WHOLE_BODY_BYTES } from "../../runtime/request-body.ts";
import { bodyTooLargeMessage, capStream } from "../util/read-capped.ts";
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
  const method = c.req.method;
  const { body, capped } = method === "GET" || method === "HEAD" ? { body: null } : await requestBody(c, declared, deps.maxBodyBytes);
  const requestId = c.get("requestId") as string;
  const result = await deps.invoker.invoke({
    fn,
    functionName: fn.name,
    trigger: "http",
    request: { url: guestUrl, method, headers: guestHeaders(c, requestId), body },
    requestId,
    correlationId: c.get("correlationId") ?? null,
    auth: auth.claims,
    // the body passed the cap before the function answered: the request is refused, whatever the function made of it
    refused: () => (capped?.over() ? bodyTooLargeMessage(deps.maxBodyBytes) : null),
  });
  return responseOf(result, { expose: deps.expose });
}

/**
 * The body as the guest gets it: read whole when it declares a small length
 * (the fast path: one buffer, one crossing), else a stream read as the guest
 * reads it, capped at `max` bytes while it streams. A declared length over the
 * cap was refused before. Under Node an HTTP/1.1 request with neither length
 * nor transfer-encoding has no body.
 */
async function requestBody(c: Context, declared: number, max: number): Promise<{ body: Uint8Array | ReadableStream<Uint8Array> | null; capped?: ReturnType<typeof capStream> }> {
  const length = c.req.header("content-length");
  if (length !== undefined && declared <= WHOLE_BODY_BYTES) {
    // Touching `.body` makes the node adapter build a full Request: its direct read is the fast path.
    const bytes = declared ? new Uint8Array(await c.req.raw.arrayBuffer()) : null;
    return { body: bytes?.byteLength ? bytes : null };
  }
  const node = (c.env as { incoming?: unknown } | undefined)?.incoming !== undefined;
  if (length === undefined && node && c.req.header("transfer-encoding") === undefined) return { body: null };
  const raw = c.req.raw.body;
  if (!raw) return { body: null };
  const capped = capStream(raw, max);
  return { body: capped.stream, capped };
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
  return errorResponse(c, 413, "PAYLOAD_TOO_LARGE", bodyTooLargeMessage(max));
}
