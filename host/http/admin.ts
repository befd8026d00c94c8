import { timingSafeEqual, createHash } from "node:crypto";
import { Hono } from "hono";
import type { AdminContext, AdminOp } from "../admin/types.ts";
import { HangarError, UserError } from "../errors.ts";
import { errorResponse } from "./errors.ts";

export interface AdminRoutesDeps {
  token: string;
  ops: Record<string, AdminOp>;
  context: Omit<AdminContext, "actor">;
}

/** `POST /_hangar/api/<op>` with a JSON body of arguments; needs the admin bearer token. */
export function adminRoutes(deps: AdminRoutesDeps): Hono {
  const app = new Hono();
  const expected = digest(deps.token);
  app.use("*", async (c, next) => {
    const given = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "")?.[1]?.trim();
    if (!given) return errorResponse(c, 401, "UNAUTHORIZED", "the admin API needs Authorization: Bearer $HANGAR_ADMIN_TOKEN");
    if (!timingSafeEqual(digest(given), expected)) return errorResponse(c, 403, "FORBIDDEN", "the admin token is not valid");
    await next();
  });
  app.post("/:op", async (c) => {
    const name = c.req.param("op");
    const op = deps.ops[name];
    if (!op) return errorResponse(c, 404, "UNKNOWN_OPERATION", `no admin operation "${name}"`);
    let args: Record<string, unknown> = {};
    const text = await c.req.text();
    if (text) {
      try {
        args = JSON.parse(text);
      } catch {
        return errorResponse(c, 400, "BAD_JSON", "the request body is not valid JSON");
      }
    }
    try {
      const result = await op({ ...deps.context, actor: "api" }, args);
      return c.json({ result: result ?? null });
    } catch (err) {
      if (err instanceof UserError) return errorResponse(c, err.status, err.code, err.message);
      if (err instanceof HangarError) return errorResponse(c, 400, err.code, err.message);
      throw err;
    }
  });
  return app;
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}
