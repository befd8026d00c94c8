import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";

export interface HttpServer {
  port: number;
  url: string;
  /** Stop accepting, let in-flight requests finish up to `graceMs`, then drop the rest. Safe twice. */
  close(graceMs?: number): Promise<void>;
}

/** Serve a Hono app on a real port, tracking in-flight requests for graceful shutdown. */
export function listen(app: Hono, port: number, hostname: string): Promise<HttpServer> {
  return new Promise((resolve, reject) => {
    let closing: Promise<void> | null = null;
    const server = serve({ fetch: app.fetch, port, hostname }, (info: AddressInfo) => {
      const host = hostname === "0.0.0.0" || hostname === "::" ? "localhost" : hostname;
      resolve({
        port: info.port,
        url: `http://${host.includes(":") ? `[${host}]` : host}:${info.port}`,
        close(graceMs = 30_000) {
          closing ??= shutdown(server as Server, graceMs);
          return closing;
        },
      });
    }) as Server;
    server.keepAliveTimeout = 65_000;
    server.once("error", reject);
  });
}

async function shutdown(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Idle keep-alive sockets would hold close() open; busy ones finish first.
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  const idle = setInterval(() => server.closeIdleConnections(), 100);
  try {
    await closed;
  } finally {
    clearTimeout(timer);
    clearInterval(idle);
  }
}
