// Main-thread side of one embedded-database thread: starts it, sends it
// requests, and fails every pending one when it exits, whatever the cause
// (close, a crash, an out-of-memory abort in WASM, terminate()).
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
export type PgliteRequest = ToPglite extends infer T ? (T extends { id: number } ? Omit<T, "id"> : never) : never;

/** One PGlite instance on a thread of its own; `onDeath` hears of an exit nobody asked for. */
export class PgliteWorker {
  /** Why this thread can no longer answer; set once. */
  dead: Error | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closing = false;
  private failure: string | null = null;
  private readonly exited: Promise<void>;

  private constructor(readonly worker: Worker, onDeath: (w: PgliteWorker, err: Error) => void) {
    this.exited = new Promise((resolve) => worker.once("exit", () => resolve()));
    worker.on("message", (m: FromPglite) => this.onMessage(m));
    worker.on("error", (err) => (this.failure ??= err.message));
    worker.on("exit", (code) => {
      const why = this.failure ? `failed: ${this.failure}` : `exited (code ${code})`;
      const err = new DbUnavailableError(`the embedded database's thread ${why}; statements in flight on it got no answer`);
      const unasked = !this.closing && !this.dead;
      this.fail(err);
      if (unasked) onDeath(this, err);
    });
  }

  /** Start a thread and open the database in it; rejects (thread gone) when it does not open. */
  static async start(data: PgliteThreadData, load: ArrayBuffer | undefined, onDeath: (w: PgliteWorker, err: Error) => void): Promise<PgliteWorker> {
    const w = new PgliteWorker(new Worker(threadSource(), { eval: true, workerData: data }), onDeath);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromPglite) => {
        if (m.type === "ready") resolve();
        else if (m.type === "failed") reject(new Error(`the embedded database in ${data.dataDir} did not start: ${m.message}`));
        else return;
        w.worker.off("message", onMessage);
        w.worker.off("exit", onExit);
      };
      const onExit = () => reject(w.dead ?? new Error("the embedded database's thread exited while starting"));
      w.worker.on("message", onMessage);
      w.worker.once("exit", onExit);
      w.worker.postMessage({ type: "open", loadDataDir: load } satisfies ToPglite, load ? [load] : []);
    }).catch(async (err) => {
      w.closing = true;
      await w.worker.terminate();
      throw err;
    });
    return w;
  }

  request(m: PgliteRequest, transfer: ArrayBuffer[] = []): Promise<FromPglite> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<FromPglite>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...m, id } as ToPglite, transfer);
    });
  }

  /** Close the database, then the thread; safe twice. A thread that will not close is terminated. */
  async close(reason: Error): Promise<void> {
    this.closing = true;
    if (!this.dead) {
      await this.request({ type: "close" }).catch(() => {});
      this.fail(reason);
    }
    await this.worker.terminate();
    await this.exited;
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
