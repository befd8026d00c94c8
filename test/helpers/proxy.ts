// A TCP proxy a test controls: between an instance and Postgres, it can
// pause (a silent network: bytes are swallowed, no RST, sockets stay open).
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface PausableProxy {
  port: number;
  /** Swallow every byte both ways, and hold new connections, until resume(). */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startProxy(target: { host: string; port: number }): Promise<PausableProxy> {
  let paused = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection(target);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("data", (d) => void (paused || upstream.write(d)));
    upstream.on("data", (d) => void (paused || client.write(d)));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    pause: () => void (paused = true),
    resume: () => void (paused = false),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
