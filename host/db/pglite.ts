import { mkdir } from "node:fs/promises";
import type { Worker } from "node:worker_threads";
import pg from "pg";
import { PgliteHost } from "./pglite-host.ts";
import { PgliteSocket } from "./pglite-stream.ts";
import { guardPool, PoolDb } from "./pool.ts";
import type { GuestDb, GuestScope, NotificationHandler } from "./types.ts";

export interface PgliteOptions {
  /** Directory to persist into, or "memory://". */
  dataDir: string;
  /** A dumped data directory (tarball) to start from, for fast test setup. */
  loadDataDir?: Blob;
  /** Told when the database's thread died and is restarted (and why). */
  onWarn?: (message: string) => void;
}

/**
 * The embedded default: PGlite (Postgres in WASM) with pgvector, on a thread
 * of its own so a long statement never holds up HTTP, the scheduler or the
 * dispatcher. It is one session, so the pool has size 1: transactions queue
 * rather than interleave.
 */
export class PgliteDb extends PoolDb {
  readonly kind = "pglite" as const;
  private readonly handlers = new Map<string, Set<NotificationHandler>>();
  private readonly reconnectHandlers = new Set<() => void>();
  private heldSince: number | null = null;

  private constructor(private readonly host: PgliteHost) {
    const pool = guardPool(new pg.Pool({ max: 1, user: "postgres", database: "postgres", stream: () => new PgliteSocket(host) }));
    super(pool);
    // The one backend delivers NOTIFY to whichever connection is talking to it.
    pool.on("connect", (client) => client.on("notification", (n) => this.deliver(n.channel, n.payload ?? "")));
    pool.on("acquire", () => (this.heldSince = performance.now()));
    pool.on("release", () => (this.heldSince = null));
  }

  static async open(opts: PgliteOptions): Promise<PgliteDb> {
    if (!opts.dataDir.startsWith("memory://")) await mkdir(opts.dataDir, { recursive: true });
    const db: PgliteDb = new PgliteDb(await PgliteHost.start({ ...opts, onRestart: () => void db.restarted() }));
    return db;
  }

  /** One session for everything: guests queue behind each other and Hangar (no separate pool to give them). */
  guest(_scope: GuestScope): GuestDb {
    const db = Object.create(this) as GuestDb;
    db.close = async () => {};
    return db;
  }

  /**
   * How long the one session has been taken (a statement running, a
   * transaction open), or null while it is free. PGlite runs one statement
   * at a time, to its end: a long one makes it busy, not down.
   */
  busyMs(): number | null {
    return this.heldSince === null ? null : performance.now() - this.heldSince;
  }

  async listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>> {
    let set = this.handlers.get(channel);
    if (!set) {
      this.handlers.set(channel, (set = new Set()));
      try {
        await this.query(`listen ${pg.escapeIdentifier(channel)}`);
      } catch (err) {
        this.handlers.delete(channel);
        throw err;
      }
    }
    set.add(handler);
    const handlers = set;
    return async () => {
      handlers.delete(handler);
      if (handlers.size === 0 && this.handlers.get(channel) === handlers) {
        this.handlers.delete(channel);
        if (!this.closed) await this.query(`unlisten ${pg.escapeIdentifier(channel)}`).catch(() => {});
      }
    };
  }

  /** Told after the database's thread was restarted (notifications sent while it was down are lost): catch up by query. */
  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  /** Tests: the thread that owns the database now; terminate() it to crash the database for real. */
  thread(): Worker | null {
    return this.host.thread();
  }

  /** The data directory as a gzipped tarball (PGlite's `loadDataDir` reads it back). */
  dumpDataDir(): Promise<Blob> {
    return this.host.dump();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
    await this.host.close();
  }

  /** A new thread is a new session: LISTEN again on every channel, then let subscribers catch up. */
  private async restarted(): Promise<void> {
    for (const channel of this.handlers.keys()) {
      await this.query(`listen ${pg.escapeIdentifier(channel)}`, []).catch(() => {}); // died again: the next restart listens
    }
    if (this.closed) return;
    for (const handler of this.reconnectHandlers) {
      try {
        handler();
      } catch {
        // One subscriber's failure is its own.
      }
    }
  }

  private deliver(channel: string, payload: string): void {
    for (const handler of this.handlers.get(channel) ?? []) {
      try {
        handler(payload);
      } catch {
        // One subscriber's failure is its own.
      }
    }
  }
}
