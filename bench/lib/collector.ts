// Where event handlers report in: GET /hit?id=N records when each id arrived,
// on this process's clock (the same clock that timed the commits).
import { createServer, type Server } from "node:http";

export interface Collector {
  url: string;
  arrivals: Map<string, number>;
  /** Resolves when every id has arrived or `timeoutMs` passed; returns how many arrived. */
  waitFor(ids: string[], timeoutMs: number): Promise<number>;
  close(): Promise<void>;
}

export async function startCollector(): Promise<Collector> {
  const arrivals = new Map<string, number>();
  let wake: (() => void) | null = null;
  const server: Server = createServer((req, res) => {
    const t = performance.now();
    const id = new URL(req.url ?? "/", "http://x").searchParams.get("id");
    if (id !== null && !arrivals.has(id)) arrivals.set(id, t);
    res.end("ok");
    wake?.();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    arrivals,
    async waitFor(ids, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      const count = () => ids.reduce((n, id) => n + (arrivals.has(id) ? 1 : 0), 0);
      while (count() < ids.length && performance.now() < deadline) {
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
      return count();
    },
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
