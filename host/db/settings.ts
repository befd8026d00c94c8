/** How an instance uses its database: pool sizes, timeouts, start-up patience. Resolved in host/config. */
export interface DbSettings {
  /** Sessions for Hangar's own work (claims, ledger, logs, registry). HANGAR_POOL_SIZE. */
  poolSize: number;
  /** Sessions shared by every guest's SQL. HANGAR_GUEST_POOL_SIZE. */
  guestPoolSize: number;
  /** Sessions one invocation may hold at once (each open sql.begin holds one). */
  guestSessionsPerInvocation: number;
  /** Sessions one function's invocations may hold at once, on this instance. */
  guestSessionsPerFunction: number;
  /** How long a guest waits for a session before its call fails (502 naming the cap). */
  guestAcquireTimeoutMs: number;
  /** A guest transaction (a held session) open longer than this is ended, whatever the function's wallMs. */
  guestTxMaxMs: number;
  /** TCP connect + start-up handshake. */
  connectTimeoutMs: number;
  /** statement_timeout on Hangar's own sessions; the client gives up `+ 5 s` later (silent networks). */
  statementTimeoutMs: number;
  /** idle_in_transaction_session_timeout on Hangar's own sessions. */
  idleInTxTimeoutMs: number;
  /** How long start-up (and CLI commands) wait for the database to accept a session. 0: fail at once. */
  waitMs: number;
  /** A direct (non-pooler) URL for the LISTEN session, when DATABASE_URL goes through a transaction pooler. */
  listenUrl: string | null;
}

export const DEFAULT_DB_SETTINGS: DbSettings = {
  poolSize: 10,
  guestPoolSize: 10,
  guestSessionsPerInvocation: 4,
  guestSessionsPerFunction: 6,
  guestAcquireTimeoutMs: 5_000,
  guestTxMaxMs: 60_000,
  connectTimeoutMs: 10_000,
  statementTimeoutMs: 30_000,
  idleInTxTimeoutMs: 60_000,
  waitMs: 120_000,
  listenUrl: null,
};

/** Milliseconds the client waits for any answer before it declares the link dead. */
export const clientTimeoutMs = (s: Pick<DbSettings, "statementTimeoutMs">) => s.statementTimeoutMs + 5_000;
