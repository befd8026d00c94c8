import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";

const VALID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Every response carries `x-request-id`, always made by the server: a
 * client must not be able to give its request another's id (logs, errors
 * and the guest's ctx.requestId all use it). A sane client-sent
 * `x-request-id` is kept as `correlationId` and stored beside it.
 */
export const requestId: MiddlewareHandler = async (c, next) => {
  const given = c.req.header("x-request-id");
  const id = randomUUID();
  c.set("requestId", id);
  if (given && VALID.test(given)) c.set("correlationId", given);
  await next();
  c.res.headers.set("x-request-id", id);
};
