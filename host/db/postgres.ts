import pg from "pg";
import { GuestSessions, PooledGuestDb } from "./guest.ts";
import { Listener } from "./listener.ts";
import { guardPool, PoolDb } from "./pool.ts";
import { clientTimeoutMs, DEFAULT_DB_SETTINGS, type DbSettings } from "./settings.ts";
import type { GuestDb, GuestScope, NotificationHandler } from "./types.ts";

export interface PostgresOptions {
  url: string;
  applicationName: string;
  /** Hangar's own pool size (DbSettings.poolSize). */
  max?: number;
  settings?: Partial<DbSettings>;
  /** A pool client lost its session (logged by the caller; never fatal). */
  onClientError?: (err: Error) => void;
  /** The LISTEN session's troubles (lost, reconnecting, a transaction pooler found). */
  onWarn?: (message: string) => void;
}

/** Connection settings both pools share: bounded connect, keepalive, a client-side answer deadline. */
function poolConfig(url: string, applicationName: string, max: number, s: DbSettings, extra: pg.PoolConfig = {}): pg.PoolConfig {
  return {
    connectionString: url,
    max,
    application_name: applicationName,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: s.connectTimeoutMs,
    // A statement the server should have ended (statement_timeout) but that never answered: the link is dead.
    query_timeout: clientTimeoutMs(s),
    ...extra,
  };
}

/**
 * A real Postgres server: Hangar's own pool (its sessions carry
 * statement_timeout and idle_in_transaction_session_timeout), a separate
 * guest pool for functions' SQL, and a dedicated LISTEN session.
 */
export class PostgresDb extends PoolDb {
  readonly kind = "postgres" as const;
  readonly settings: DbSettings;
  private readonly listener: Listener;
  private readonly guestPool: pg.Pool;
  readonly guestSessions: GuestSessions;

  constructor(opts: PostgresOptions) {
    const s: DbSettings = { ...DEFAULT_DB_SETTINGS, ...opts.settings, ...(opts.max !== undefined ? { poolSize: opts.max } : {}) };
    const pool = guardPool(
      new pg.Pool(
        poolConfig(opts.url, opts.applicationName, s.poolSize, s, {
          options: `-c statement_timeout=${s.statementTimeoutMs} -c idle_in_transaction_session_timeout=${s.idleInTxTimeoutMs}`,
        }),
      ),
      opts.onClientError,
    );
    super(pool);
    this.settings = s;
    this.guestPool = guardPool(
      new pg.Pool(
        poolConfig(opts.url, `${opts.applicationName}:guest`, s.guestPoolSize, s, {
          connectionTimeoutMillis: Math.min(s.connectTimeoutMs, s.guestAcquireTimeoutMs),
          options: `-c statement_timeout=${s.statementTimeoutMs} -c idle_in_transaction_session_timeout=${s.idleInTxTimeoutMs}`,
        }),
      ),
      opts.onClientError,
    );
    this.guestSessions = new GuestSessions(this.guestPool, s);
    this.listener = new Listener({
      url: s.listenUrl ?? opts.url,
      applicationName: `${opts.applicationName}:listen`,
      connectTimeoutMs: s.connectTimeoutMs,
      onWarn: opts.onWarn,
    });
  }

  guest(scope: GuestScope): GuestDb {
    return new PooledGuestDb(this, this.guestSessions, scope);
  }

  /** True when the LISTEN session found a transaction pooler (LISTEN does not work through it). */
  get listenPooled(): boolean {
    return this.listener.pooled;
  }

  guestPoolStats() {
    return { total: this.guestPool.totalCount, idle: this.guestPool.idleCount, waiting: this.guestPool.waitingCount };
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
    await Promise.all([this.pool.end(), this.guestPool.end()]);
  }
}
