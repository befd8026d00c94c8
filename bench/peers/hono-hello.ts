// Raw Hono on Node serving the same JSON as functions/hello.ts: the ceiling.
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const app = new Hono();
app.all("*", (c) => {
  const url = new URL(c.req.url);
  const name = url.searchParams.get("name") ?? "world";
  return c.json({ message: `Hello, ${name}!`, method: c.req.method, path: url.pathname });
});
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: "127.0.0.1" });
