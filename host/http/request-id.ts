import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";

const VALID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Every response carries `x-request-id`: the caller's when sane, else a new one. */
export const requestId: MiddlewareHandler = async (c, next) => {
  const given = c.req.header("x-request-id");
  const id = given && VALID.test(given) ? given : randomUUID();
  c.set("requestId", id);
  await next();
  c.res.headers.set("x-request-id", id);
};
