import type pg from "pg";
import { isBrokenSession } from "./errors.ts";
import type { Db, GuestDb, GuestScope, NotificationHandler, QueryResult, Row, Sql } from "./types.ts";

/**
 * Every client of `pool`, idle or checked out, gets an 'error' listener for
 * its whole life: node-postgres emits 'error' on a client whose session the
 * server ended (restart, pg_terminate_backend, a reset socket), and an
 * 'error' event without a listener ends the process. The failure itself
 * reaches whoever was using the client through its failed query.
 */
export function guardPool(pool: pg.Pool, onClientError?: (err: Error) => void): pg.Pool {
  pool.on("error", (err) => onClientError?.(err));
  pool.on("connect", (client) => {
    client.on("error", (err) => onClientError?.(err));
  });
  return pool;
}

/** Shared Db behaviour over a node-postgres Pool; backends supply LISTEN, guests and close. */
export abstract class PoolDb implements Db {
  abstract readonly kind: "postgres" | "pglite";
  protected closed = false;
  /** An own field, so a guest Db made with Object.create(this) (PGlite) inherits it. */
  readonly root: Db = this;
  constructor(protected readonly pool: pg.Pool) {}

  query<R extends object = Row>(text: string, values?: unknown[]): Promise<QueryResult<R>> {
    return this.withClient((c) => c.query<R>(text, values));
  }

  withClient<T>(fn: (client: Sql) => Promise<T>): Promise<T> {
    return withPoolClient(this.pool, fn);
  }

  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    return this.withClient((client) => inTransaction(client, fn));
  }

  poolStats() {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  abstract guest(scope: GuestScope): GuestDb;
  abstract listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>>;
  abstract onReconnect(handler: () => void): () => void;
  abstract close(): Promise<void>;
}

/** Hold one client of `pool` for `fn`; a client whose session broke never goes back to the pool. */
export async function withPoolClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, onHeld?: (client: pg.PoolClient) => () => void): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => (broken = err);
  client.on("error", onError);
  const done = onHeld?.(client);
  try {
    return await fn(client);
  } catch (err) {
    if (isBrokenSession(err)) broken = err as Error;
    throw err;
  } finally {
    done?.();
    client.off("error", onError);
    client.release(broken ?? (client as unknown as { hangarBroken?: Error }).hangarBroken);
  }
}

/** BEGIN, `fn`, COMMIT; ROLLBACK when `fn` throws. */
export async function inTransaction<T>(client: Sql, fn: (tx: Sql) => Promise<T>): Promise<T> {
  await client.query("begin");
  try {
    const result = await fn(client);
    await client.query("commit");
    return result;
  } catch (err) {
    if (!isBrokenSession(err)) await client.query("rollback").catch(() => {});
    throw err;
  }
}
