// Test helpers: loopback-only HTTP servers and a guard that fails loudly if
// anything connects anywhere but loopback (this machine forbids it anyway).
import diagnostics from "node:diagnostics_channel";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { FetchRequestData, FetchResponseData, HostFunction } from "../../../runtime/types.ts";

export interface TestServer {
  port: number;
  /** TCP connections accepted so far. */
  connections: number;
  /** Requests seen so far. */
  requests: http.IncomingMessage[];
  close(): Promise<void>;
}

/** Start an HTTP server on 127.0.0.1, port 0. */
export async function startServer(handler: http.RequestListener): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const state = { connections: 0, requests: [] as http.IncomingMessage[] };
  const server = http.createServer((req, res) => {
    state.requests.push(req);
    handler(req, res);
  });
  server.on("connection", (s) => {
    state.connections++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | null = null;
  return {
    port,
    get connections() { return state.connections; },
    get requests() { return state.requests; },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}

/** Build FetchRequestData with defaults. */
export function req(url: string, init: Partial<FetchRequestData> = {}): FetchRequestData {
  return { url, method: "GET", headers: [], body: null, redirect: "follow", ...init };
}

/** Call a binding as the sandbox would. */
export function call(binding: HostFunction, data: FetchRequestData, signal = new AbortController().signal): Promise<FetchResponseData> {
  return binding([data], { requestId: "test", signal }) as Promise<FetchResponseData>;
}

export function text(res: FetchResponseData): string {
  return Buffer.from(res.body).toString("utf8");
}

/** The error a promise rejects with (fails when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error("expected a rejection");
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/**
 * Record every undici connection attempt and connected socket. `connectedTo`
 * lists remote addresses; any non-loopback one is a test failure.
 */
export function watchConnections() {
  const attempts: string[] = [];
  const connectedTo: string[] = [];
  const onBefore = (m: unknown) => attempts.push((m as { connectParams: { hostname: string } }).connectParams.hostname);
  const onConnected = (m: unknown) => {
    const addr = (m as { socket: Socket }).socket.remoteAddress ?? "?";
    connectedTo.push(addr);
    if (!LOOPBACK.has(addr)) throw new Error(`connected to non-loopback ${addr}`);
  };
  diagnostics.subscribe("undici:client:beforeConnect", onBefore);
  diagnostics.subscribe("undici:client:connected", onConnected);
  return {
    attempts,
    connectedTo,
    stop() {
      diagnostics.unsubscribe("undici:client:beforeConnect", onBefore);
      diagnostics.unsubscribe("undici:client:connected", onConnected);
    },
  };
}
