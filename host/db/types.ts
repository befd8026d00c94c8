export type Row = Record<string, unknown>;

export interface QueryResult<R> {
  rows: R[];
  rowCount: number | null;
  fields: { name: string; dataTypeID: number }[];
}

/** Anything that runs one parameterized statement. */
export interface Sql {
  query<R extends object = Row>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

export type NotificationHandler = (payload: string) => void;

/** The one way the host reaches Postgres, embedded or real. */
export interface Db extends Sql {
  readonly kind: "postgres" | "pglite";
  /** The Db a per-invocation guest Db was made from (itself otherwise): what per-database caches are keyed by. */
  readonly root?: Db;
  /** Run `fn` in a transaction on one session; commit on success, roll back on throw. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  /** Hold one session for `fn` (no transaction is opened for you). */
  withClient<T>(fn: (client: Sql) => Promise<T>): Promise<T>;
  /** LISTEN on a dedicated session; returns an unsubscribe function. */
  listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>>;
  /** Called after the listening session was lost and re-established: catch up by query. */
  onReconnect(handler: () => void): () => void;
  /**
   * The Db one invocation's guest SQL uses: the guest pool (never Hangar's
   * own), within the per-invocation and per-function session caps. close()
   * ends its accounting (not the pool).
   */
  guest(scope: GuestScope): GuestDb;
  /** Embedded only: how long its one session has been taken, null while free (a busy database is not a down one). */
  busyMs?(): number | null;
  /** Pool figures for metrics. */
  poolStats(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

/** Whose guest SQL a guest Db carries. */
export interface GuestScope {
  functionName: string;
  invocationId: string;
}

export type GuestDb = Db;
