import { join } from "node:path";
import { PgliteDb } from "./pglite.ts";
import { PostgresDb } from "./postgres.ts";
import type { Db } from "./types.ts";

export type { Db, Sql, Row, NotificationHandler, QueryResult } from "./types.ts";
export { migrate, migrationFiles } from "./migrate.ts";

export interface OpenDbOptions {
  databaseUrl: string | null;
  dataDir: string;
  nodeId: string;
  poolSize?: number;
}

/** Open the configured database: `DATABASE_URL` when set, else embedded PGlite under the data dir. */
export async function openDb(opts: OpenDbOptions): Promise<Db> {
  if (opts.databaseUrl) {
    return new PostgresDb({ url: opts.databaseUrl, applicationName: `hangar:${opts.nodeId}`, max: opts.poolSize });
  }
  return PgliteDb.open({ dataDir: join(opts.dataDir, "pgdata") });
}
