// Where a guest statement runs. Three shapes, one rule: never hold a session
// while waiting for another query on the same Db (PGlite is one session).
//  - own:    a pool session we began a transaction on (sql.query alone, or sql.begin)
//  - nested: someone else's open transaction (exactly-once `session`, or the
//            PGlite session a sql.begin already holds): a savepoint per call,
//            settings saved and put back so the caller's own SQL runs as before
import type { Db, Sql } from "../../db/index.ts";

/** Serialises multi-step work on one shared session. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => {},
      () => {},
    );
    return result;
  }
}

const mutexes = new WeakMap<object, Mutex>();

/** The mutex for a session, shared by everything in the process that uses it. */
export function mutexFor(s: object): Mutex {
  let m = mutexes.get(s);
  if (!m) mutexes.set(s, (m = new Mutex()));
  return m;
}

export interface HeldSession {
  sql: Sql;
  /** Give the session back; pass the error when the connection is broken so the pool drops it. */
  release(broken?: Error): Promise<void>;
}

/** Hold one session of `db` until `release` (db.withClient kept open by a promise). */
export function holdSession(db: Db): Promise<HeldSession> {
  return new Promise((resolveHeld, rejectHeld) => {
    let finish!: (err?: Error) => void;
    const finished = new Promise<void>((res, rej) => (finish = (err) => (err ? rej(err) : res())));
    let held = false;
    const done = db.withClient(async (sql) => {
      held = true;
      resolveHeld({
        sql,
        async release(broken) {
          finish(broken);
          await done.catch(() => {});
        },
      });
      await finished;
    });
    done.catch((err) => {
      if (!held) rejectHeld(err);
    });
  });
}
