import { join } from "node:path";
import { PgliteDb } from "./pglite.ts";
import { PostgresDb } from "./postgres.ts";
import { DEFAULT_DB_SETTINGS, type DbSettings } from "./settings.ts";
import type { Db } from "./types.ts";
import { waitForDb, type WaitReport } from "./wait.ts";

export type { Db, GuestDb, GuestScope, Sql, Row, NotificationHandler, QueryResult } from "./types.ts";
export { migrate, migrationFiles } from "./migrate.ts";
export { DEFAULT_DB_SETTINGS, type DbSettings } from "./settings.ts";
export { isInfrastructureError } from "./errors.ts";
export type { WaitReport } from "./wait.ts";

export interface OpenDbOptions {
  databaseUrl: string | null;
  dataDir: string;
  nodeId: string;
  /** Hangar's own pool size; overrides settings.poolSize (CLI commands use 1). */
  poolSize?: number;
  settings?: Partial<DbSettings>;
  /** Told each time start-up is still waiting for the database (default: a line on stderr). */
  onWait?: (report: WaitReport) => void;
  /** A pool client lost its session (never fatal). */
  onClientError?: (err: Error) => void;
  /** The LISTEN session's troubles (lost and reconnecting; a transaction pooler found). */
  onWarn?: (message: string) => void;
}

/**
 * Open the configured database: `DATABASE_URL` when set, else embedded PGlite
 * under the data dir. A real database is waited for (with back-off, saying
 * what it waits for) up to settings.waitMs before this gives up.
 */
export async function openDb(opts: OpenDbOptions): Promise<Db> {
  if (opts.databaseUrl) {
    const settings = { ...DEFAULT_DB_SETTINGS, ...opts.settings };
    const db = new PostgresDb({
      url: opts.databaseUrl,
      applicationName: `hangar:${opts.nodeId}`,
      max: opts.poolSize,
      settings,
      onClientError: opts.onClientError,
      onWarn: opts.onWarn,
    });
    try {
      await waitForDb(db, opts.databaseUrl, settings.waitMs, opts.onWait ?? defaultReport);
    } catch (err) {
      await db.close().catch(() => {});
      throw err;
    }
    return db;
  }
  // join() would fold "memory://" into a relative directory named "memory:".
  return PgliteDb.open({ dataDir: opts.dataDir.startsWith("memory://") ? opts.dataDir : join(opts.dataDir, "pgdata"), onWarn: opts.onWarn });
}

function defaultReport(r: WaitReport): void {
  process.stderr.write(`hangar: ${r.message}\n`);
}
