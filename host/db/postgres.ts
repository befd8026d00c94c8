import pg from "pg";
import { Listener } from "./listener.ts";
import { PoolDb } from "./pool.ts";
import type { NotificationHandler } from "./types.ts";

export interface PostgresOptions {
  url: string;
  applicationName: string;
  max?: number;
}

/** A real Postgres server reached through a node-postgres pool and a dedicated LISTEN session. */
export class PostgresDb extends PoolDb {
  readonly kind = "postgres" as const;
  private readonly listener: Listener;

  constructor(opts: PostgresOptions) {
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.max ?? 10,
      application_name: opts.applicationName,
      keepAlive: true,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 10_000,
    });
    // An idle client losing its connection must not crash the process.
    pool.on("error", () => {});
    super(pool);
    this.listener = new Listener({ url: opts.url, applicationName: `${opts.applicationName}:listen` });
  }

  listen(channel: string, handler: NotificationHandler) {
    return this.listener.listen(channel, handler);
  }

  onReconnect(handler: () => void) {
    return this.listener.onReconnect(handler);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.listener.close();
    await this.pool.end();
  }
}
