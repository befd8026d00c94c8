import type { Sql } from "../db/index.ts";
import type { Clock } from "./types.ts";

export interface DbClockOptions {
  /** How often the offset to the database clock is measured again. Default 10 s. */
  resyncMs?: number;
}

/**
 * The database's clock, read through the local monotonic clock: every
 * `resyncMs` one `select clock_timestamp()` measures the offset (taken at the
 * round trip's midpoint); in between, now() costs no query. Every instance
 * then agrees on "now" to within a round trip, however wrong its own wall
 * clock is, and a wall-clock step on the host (NTP) changes nothing.
 */
export function dbClock(db: Sql, opts: DbClockOptions = {}): Clock {
  const resyncMs = opts.resyncMs ?? 10_000;
  let offset: number | null = null;
  let syncedAt = -Infinity;
  let syncing: Promise<void> | null = null;

  const sync = async () => {
    const t0 = performance.now();
    const { rows } = await db.query<{ ms: string }>("select (extract(epoch from clock_timestamp()) * 1000)::float8::text as ms");
    const t1 = performance.now();
    offset = Number(rows[0].ms) - (t0 + t1) / 2;
    syncedAt = t1;
  };

  return {
    async now() {
      if (performance.now() - syncedAt >= resyncMs) {
        syncing ??= sync().finally(() => (syncing = null));
        try {
          await syncing;
        } catch (err) {
          // A failed resync keeps the last offset: monotonic time does not drift far in seconds.
          if (offset === null) throw err;
        }
      }
      return new Date(Math.round(performance.now() + offset!));
    },
  };
}

/** A clock tests move by hand. */
export function manualClock(start: Date | number): Clock & { set(t: Date | number): void; advance(ms: number): void; peek(): Date } {
  let t = typeof start === "number" ? start : start.getTime();
  return {
    async now() {
      return new Date(t);
    },
    set(v) {
      t = typeof v === "number" ? v : v.getTime();
    },
    advance(ms) {
      t += ms;
    },
    peek: () => new Date(t),
  };
}
