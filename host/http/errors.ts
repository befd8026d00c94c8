import type { Context } from "hono";

/** The error body of SPEC §5: `{ error: { code, message, requestId } }`. */
export function errorResponse(c: Context, status: number, code: string, message: string): Response {
  const requestId = c.get("requestId") as string;
  return c.json({ error: { code, message, requestId } }, status as 400);
}
