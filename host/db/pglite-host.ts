// The embedded database's thread, kept alive: when it dies (a crash, an
// out-of-memory abort in WASM, terminate()), every statement in flight fails
// with DbUnavailableError (an infrastructure error), its connections are
// cut, and a fresh thread opens the same data directory (Postgres replays
// its WAL, as after any crash); repeated deaths back off. Connections opened
// afterwards reach the new thread.
import type { Worker } from "node:worker_threads";
import { DbUnavailableError } from "./errors.ts";
import { PgliteWorker, type PgliteRequest } from "./pglite-worker.ts";
import type { PgliteThreadData } from "./pglite-protocol.ts";

/** A thread that lived this long was healthy: its death restarts at once, not after back-off. */
const HEALTHY_MS = 60_000;
const BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

export interface PgliteHostOptions {
  dataDir: string;
  loadDataDir?: Blob;
  /** Told why the thread died and that it is restarted (how many times), or why it is not. */
  onWarn?: (message: string) => void;
  /** A restarted thread is ready: its one session is new (no LISTEN, no session state). */
  onRestart?: () => void;
}

const closed = () => new DbUnavailableError("the embedded database is closed");

/** A connection: the thread it started on (null until its first bytes), and how to tell it that thread died. */
type Conn = { worker: PgliteWorker | null; onLost(err: Error): void };

/** One PGlite instance on a thread of its own, restarted when the thread dies. */
export class PgliteHost {
  private worker!: PgliteWorker;
  private starting: Promise<PgliteWorker> | null = null;
  /** Why there is no thread to talk to right now (between a death and the next start). */
  private down: Error | null = null;
  private retry: NodeJS.Timeout | null = null;
  private closing: Promise<void> | null = null;
  private readonly conns = new Map<number, Conn>();
  private nextConn = 1;
  private startedAt = 0;
  private streak = 0;
  /** Restarts since this host started (tests and logs). */
  restarts = 0;

  private constructor(private readonly opts: PgliteHostOptions, private readonly data: PgliteThreadData) {}

  static async start(opts: PgliteHostOptions): Promise<PgliteHost> {
    const host = new PgliteHost(opts, {
      dataDir: opts.dataDir,
      pgliteUrl: import.meta.resolve("@electric-sql/pglite"),
      vectorUrl: import.meta.resolve("@electric-sql/pglite-pgvector"),
    });
    const load = opts.loadDataDir ? await opts.loadDataDir.arrayBuffer() : undefined;
    host.worker = await PgliteWorker.start(host.data, load, (w, err) => host.died(w, err));
    host.startedAt = performance.now();
    return host;
  }

  /** A fresh connection number; `onLost` is told when the thread it runs on dies. */
  connection(onLost: (err: Error) => void): number {
    const conn = this.nextConn++;
    this.conns.set(conn, { worker: null, onLost });
    return conn;
  }

  async wire(conn: number, bytes: Uint8Array): Promise<Uint8Array> {
    const c = this.conns.get(conn);
    if (!c) throw this.closing ? closed() : new DbUnavailableError("this connection to the embedded database has ended");
    // A connection stays on the thread it started on: a new thread does not know it.
    c.worker ??= await this.current();
    const m = await c.worker.request({ type: "wire", conn, bytes }, [bytes.buffer as ArrayBuffer]);
    return m.type === "done" && m.bytes ? m.bytes : new Uint8Array(0);
  }

  async end(conn: number): Promise<void> {
    const c = this.conns.get(conn);
    this.conns.delete(conn);
    if (c?.worker && !c.worker.dead) await c.worker.request({ type: "end", conn });
  }

  async dump(): Promise<Blob> {
    const m = await (await this.current()).request({ type: "dump" });
    if (m.type !== "dumped") throw new Error("the embedded database answered a dump with something else");
    return new Blob([m.data]);
  }

  /** Tests: the thread that owns the database now (terminate() it to crash the database for real). */
  thread(): Worker | null {
    return this.worker.dead ? null : this.worker.worker;
  }

  /** Close the database, then the thread; never restarts. Safe twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.retry) clearTimeout(this.retry);
      this.retry = null;
      await this.starting?.catch(() => {});
      await this.worker.close(closed());
    })();
    return this.closing;
  }

  /** The live thread, the one starting, or the reason there is none. */
  private current(): Promise<PgliteWorker> {
    if (this.closing) return Promise.reject(closed());
    if (!this.worker.dead) return Promise.resolve(this.worker);
    return this.starting ?? Promise.reject(this.down ?? this.worker.dead);
  }

  private died(w: PgliteWorker, err: Error): void {
    if (w !== this.worker) return;
    for (const [conn, c] of this.conns) {
      if (c.worker !== w) continue;
      this.conns.delete(conn);
      c.onLost(err);
    }
    if (this.closing) return;
    if (this.data.dataDir.startsWith("memory://")) {
      this.down = new DbUnavailableError(`${err.message}; it held its data in memory, so it is gone and not restarted`);
      this.opts.onWarn?.(this.down.message);
      return;
    }
    if (performance.now() - this.startedAt > HEALTHY_MS) this.streak = 0;
    this.restart(err);
  }

  /** Start a new thread on the same data directory: at once after a healthy run, else with back-off. */
  private restart(why: Error): void {
    const delay = this.streak === 0 ? 0 : Math.min(MAX_BACKOFF_MS, BACKOFF_MS * 2 ** (this.streak - 1));
    this.streak++;
    this.restarts++;
    const when = delay ? `in ${(delay / 1000).toFixed(1)} s, ${this.streak} deaths in a row` : "now";
    this.opts.onWarn?.(`${why.message}; restarting it on ${this.data.dataDir} (restart ${this.restarts}, ${when})`);
    this.down = new DbUnavailableError(`the embedded database is restarting after its thread died (${why.message})`);
    if (!delay) return this.respawn();
    this.retry = setTimeout(() => {
      this.retry = null;
      this.respawn();
    }, delay);
    this.retry.unref();
  }

  private respawn(): void {
    const since = performance.now();
    this.starting = PgliteWorker.start(this.data, undefined, (w, err) => this.died(w, err)).then(
      (w) => {
        this.starting = null;
        this.worker = w;
        this.startedAt = performance.now();
        this.down = null;
        if (this.closing) return w; // close() awaits this start, then closes w
        this.opts.onWarn?.(`the embedded database is back after restart ${this.restarts} (opened in ${((this.startedAt - since) / 1000).toFixed(1)} s)`);
        this.opts.onRestart?.();
        return w;
      },
      (err: Error) => {
        this.starting = null;
        if (!this.closing) this.restart(new DbUnavailableError(`the embedded database's thread did not start again: ${err.message}`, { cause: err }));
        throw this.closing ? closed() : this.down!;
      },
    );
    // Whoever waits on it hears the failure; nobody waiting is no unhandled rejection.
    this.starting.catch(() => {});
  }
}
