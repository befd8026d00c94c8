import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { createPgConfig } from "@electric-sql/pglite/node-postgres";
import { vector } from "@electric-sql/pglite-pgvector";
import pg from "pg";
import { guardPool, PoolDb } from "./pool.ts";
import type { GuestDb, GuestScope, NotificationHandler } from "./types.ts";

export interface PgliteOptions {
  /** Directory to persist into, or "memory://". */
  dataDir: string;
  /** A dumped data directory (tarball) to start from, for fast test setup. */
  loadDataDir?: Blob;
}

/**
 * The embedded default: PGlite (Postgres in WASM) with pgvector. It is one
 * session, so the pool has size 1: transactions queue rather than interleave.
 */
export class PgliteDb extends PoolDb {
  readonly kind = "pglite" as const;

  private constructor(readonly lite: PGlite) {
    super(guardPool(new pg.Pool({ ...createPgConfig(lite), max: 1 })));
  }

  static async open(opts: PgliteOptions): Promise<PgliteDb> {
    if (!opts.dataDir.startsWith("memory://")) await mkdir(opts.dataDir, { recursive: true });
    const lite = await PGlite.create(opts.dataDir, { extensions: { vector }, loadDataDir: opts.loadDataDir });
    return new PgliteDb(lite);
  }

  /** One session for everything: guests queue behind each other and Hangar (no separate pool to give them). */
  guest(_scope: GuestScope): GuestDb {
    const db = Object.create(this) as GuestDb;
    db.close = async () => {};
    return db;
  }

  async listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>> {
    const unsub = await this.lite.listen(channel, handler);
    return () => unsub();
  }

  /** The embedded session never drops. */
  onReconnect(): () => void {
    return () => {};
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
    await this.lite.close();
  }
}
