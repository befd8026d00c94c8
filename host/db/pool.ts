import type pg from "pg";
import type { Db, NotificationHandler, QueryResult, Row, Sql } from "./types.ts";

/** Shared Db behaviour over a node-postgres Pool; backends supply LISTEN and close. */
export abstract class PoolDb implements Db {
  abstract readonly kind: "postgres" | "pglite";
  protected closed = false;
  constructor(protected readonly pool: pg.Pool) {}

  query<R extends object = Row>(text: string, values?: unknown[]): Promise<QueryResult<R>> {
    return this.pool.query(text, values) as Promise<QueryResult<R>>;
  }

  async withClient<T>(fn: (client: Sql) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // The pool listens for errors only on idle clients: a session terminated while
    // held would otherwise be an uncaught 'error' event that ends the process.
    const onError = (err: Error) => (broken = err);
    client.on("error", onError);
    try {
      return await fn(client);
    } catch (err) {
      // A connection-level failure must not go back to the pool.
      if (isConnectionError(err)) broken = err as Error;
      throw err;
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    return this.withClient(async (client) => {
      await client.query("begin");
      try {
        const result = await fn(client);
        await client.query("commit");
        return result;
      } catch (err) {
        await client.query("rollback").catch(() => {});
        throw err;
      }
    });
  }

  poolStats() {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  abstract listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>>;
  abstract onReconnect(handler: () => void): () => void;
  abstract close(): Promise<void>;
}

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return typeof code === "string" && (code.startsWith("08") || code === "57P01" || code === "ECONNRESET" || code === "EPIPE");
}
