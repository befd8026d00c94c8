// Main-thread side of the embedded database's thread: starts it, sends it
// requests, and fails every pending one (and every later one) if it dies.
import { buildSync } from "esbuild";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { DbUnavailableError } from "./errors.ts";
import type { FromPglite, PgliteThreadData, ToPglite } from "./pglite-protocol.ts";

let threadCode: string | undefined;

/** The thread's source as one script: worker threads do not run TypeScript. */
function threadSource(): string {
  threadCode ??= buildSync({
    entryPoints: [fileURLToPath(new URL("./pglite-thread.ts", import.meta.url))],
    bundle: true, write: false, format: "cjs", platform: "node", target: "node20", logLevel: "error",
  }).outputFiles[0]!.text;
  return threadCode;
}

type Pending = { resolve(m: FromPglite): void; reject(err: Error): void };
type Request = ToPglite extends infer T ? (T extends { id: number } ? Omit<T, "id"> : never) : never;

export interface PgliteHostOptions {
  dataDir: string;
  loadDataDir?: Blob;
}

/** One PGlite instance on a thread of its own. */
export class PgliteHost {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private nextConn = 1;
  private dead: Error | null = null;
  private readonly exited: Promise<void>;

  private constructor(private readonly worker: Worker) {
    this.exited = new Promise((resolve) => worker.once("exit", () => resolve()));
    worker.on("message", (m: FromPglite) => this.onMessage(m));
    worker.on("error", (err) => this.fail(new DbUnavailableError(`the embedded database's thread failed: ${err.message}`, { cause: err })));
    worker.on("exit", (code) => this.fail(new DbUnavailableError(`the embedded database's thread exited (code ${code})`)));
  }

  static async start(opts: PgliteHostOptions): Promise<PgliteHost> {
    const data: PgliteThreadData = {
      dataDir: opts.dataDir,
      pgliteUrl: import.meta.resolve("@electric-sql/pglite"),
      vectorUrl: import.meta.resolve("@electric-sql/pglite-pgvector"),
    };
    const host = new PgliteHost(new Worker(threadSource(), { eval: true, workerData: data }));
    const load = opts.loadDataDir ? await opts.loadDataDir.arrayBuffer() : undefined;
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromPglite) => {
        if (m.type === "ready") resolve();
        else if (m.type === "failed") reject(new Error(`the embedded database in ${opts.dataDir} did not start: ${m.message}`));
        else return;
        host.worker.off("message", onMessage);
        host.worker.off("exit", onExit);
      };
      const onExit = () => reject(host.dead ?? new Error("the embedded database's thread exited while starting"));
      host.worker.on("message", onMessage);
      host.worker.once("exit", onExit);
      host.worker.postMessage({ type: "open", loadDataDir: load } satisfies ToPglite, load ? [load] : []);
    }).catch(async (err) => {
      await host.worker.terminate();
      throw err;
    });
    return host;
  }

  /** A fresh connection number (the thread tracks each one's start-up and end). */
  connection(): number {
    return this.nextConn++;
  }

  async wire(conn: number, bytes: Uint8Array): Promise<Uint8Array> {
    const m = await this.request({ type: "wire", conn, bytes }, [bytes.buffer as ArrayBuffer]);
    return m.type === "done" && m.bytes ? m.bytes : new Uint8Array(0);
  }

  async end(conn: number): Promise<void> {
    await this.request({ type: "end", conn });
  }

  async dump(): Promise<Blob> {
    const m = await this.request({ type: "dump" });
    if (m.type !== "dumped") throw new Error("the embedded database answered a dump with something else");
    return new Blob([m.data]);
  }

  /** Close the database, then the thread; safe twice. A thread that will not close is terminated. */
  async close(): Promise<void> {
    if (!this.dead) {
      await this.request({ type: "close" }).catch(() => {});
      this.fail(new DbUnavailableError("the embedded database is closed"));
    }
    await this.worker.terminate();
    await this.exited;
  }

  private request(m: Request, transfer: ArrayBuffer[] = []): Promise<FromPglite> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<FromPglite>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...m, id } as ToPglite, transfer);
    });
  }

  private onMessage(m: FromPglite): void {
    if (!("id" in m)) return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.type === "error") p.reject(new Error(m.message));
    else p.resolve(m);
  }

  private fail(err: Error): void {
    this.dead ??= err;
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
  }
}
