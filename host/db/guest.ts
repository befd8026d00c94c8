// Guest SQL's sessions: a pool of their own, so no guest can take the
// sessions Hangar needs (claims, ledger, health), and caps per invocation
// and per function within it, so no guest can take every other guest's.
import type pg from "pg";
import { HostBindingError } from "../../runtime/types.ts";
import { inTransaction, withPoolClient } from "./pool.ts";
import type { DbSettings } from "./settings.ts";
import type { Db, GuestDb, GuestScope, NotificationHandler, QueryResult, Row, Sql } from "./types.ts";

type Caps = Pick<DbSettings, "guestSessionsPerInvocation" | "guestSessionsPerFunction" | "guestAcquireTimeoutMs" | "guestTxMaxMs" | "guestPoolSize">;

interface Waiter {
  fits(): boolean;
  go(): void;
}

/** Counts sessions held per function and per invocation; hands out slots in arrival order. */
export class GuestSessions {
  private readonly perFunction = new Map<string, number>();
  private readonly waiters = new Set<Waiter>();
  /** Calls that failed for a cap, by cap name (metrics). */
  readonly refused = { invocation: 0, function: 0, pool: 0, txTime: 0 };

  constructor(
    readonly pool: pg.Pool,
    readonly caps: Caps,
  ) {}

  held(fn: string): number {
    return this.perFunction.get(fn) ?? 0;
  }

  /** Wait for a slot under both caps, or fail naming the cap that held the call back. */
  async acquire(scope: GuestScope, counter: { n: number }): Promise<() => void> {
    const fits = () => counter.n < this.caps.guestSessionsPerInvocation && this.held(scope.functionName) < this.caps.guestSessionsPerFunction;
    if (!fits()) {
      await new Promise<void>((resolve, reject) => {
        const w: Waiter = {
          fits,
          go: () => {
            clearTimeout(timer);
            this.waiters.delete(w);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          this.waiters.delete(w);
          const byInvocation = counter.n >= this.caps.guestSessionsPerInvocation;
          if (byInvocation) this.refused.invocation++;
          else this.refused.function++;
          reject(
            new HostBindingError(
              byInvocation
                ? `no database session within ${this.caps.guestAcquireTimeoutMs} ms: this invocation already holds ${counter.n} (the per-invocation cap, HANGAR_GUEST_SESSIONS_PER_INVOCATION); finish or roll back a transaction first`
                : `no database session within ${this.caps.guestAcquireTimeoutMs} ms: function "${scope.functionName}" already holds ${this.held(scope.functionName)} on this instance (the per-function cap, HANGAR_GUEST_SESSIONS_PER_FUNCTION)`,
              "SQL_SESSION_CAP",
            ),
          );
        }, this.caps.guestAcquireTimeoutMs);
        timer.unref?.();
        this.waiters.add(w);
      });
    }
    counter.n++;
    this.perFunction.set(scope.functionName, this.held(scope.functionName) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      counter.n--;
      const left = this.held(scope.functionName) - 1;
      if (left > 0) this.perFunction.set(scope.functionName, left);
      else this.perFunction.delete(scope.functionName);
      for (const w of this.waiters) if (w.fits()) return w.go();
    };
  }
}

/** The Db of one invocation's guest SQL over the guest pool. */
export class PooledGuestDb implements GuestDb {
  private readonly counter = { n: 0 };
  private closed = false;

  constructor(
    private readonly parent: Db,
    private readonly sessions: GuestSessions,
    private readonly scope: GuestScope,
  ) {}

  get kind() {
    return this.parent.kind;
  }

  get root(): Db {
    return this.parent.root ?? this.parent;
  }

  query<R extends object = Row>(text: string, values?: unknown[]): Promise<QueryResult<R>> {
    return this.withClient((c) => c.query<R>(text, values));
  }

  async withClient<T>(fn: (client: Sql) => Promise<T>): Promise<T> {
    if (this.closed) throw new HostBindingError("sql used after the invocation ended", "SQL_CLOSED");
    const release = await this.sessions.acquire(this.scope, this.counter);
    try {
      const { caps, pool } = this.sessions;
      return await withPoolClient(
        pool,
        fn,
        // A session held past the transaction cap is ended: the server rolls back whatever it had open.
        (client) => {
          const timer = setTimeout(() => {
            this.sessions.refused.txTime++;
            (client as unknown as { hangarBroken?: Error }).hangarBroken = new Error(`guest transaction exceeded ${caps.guestTxMaxMs} ms`);
            (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
          }, caps.guestTxMaxMs);
          timer.unref?.();
          return () => clearTimeout(timer);
        },
      ).catch((err: unknown) => {
        if (err instanceof Error && /timeout exceeded when trying to connect/.test(err.message)) {
          this.sessions.refused.pool++;
          throw new HostBindingError(
            `no database session within ${caps.guestAcquireTimeoutMs} ms: all ${caps.guestPoolSize} sessions of the guest pool are in use (HANGAR_GUEST_POOL_SIZE)`,
            "SQL_SESSION_CAP",
            { cause: err },
          );
        }
        throw err;
      });
    } finally {
      release();
    }
  }

  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    return this.withClient((c) => inTransaction(c, fn));
  }

  guest(scope: GuestScope): GuestDb {
    return this.parent.guest(scope);
  }

  listen(channel: string, handler: NotificationHandler) {
    return this.parent.listen(channel, handler);
  }

  onReconnect(handler: () => void) {
    return this.parent.onReconnect(handler);
  }

  poolStats() {
    const p = this.sessions.pool;
    return { total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
