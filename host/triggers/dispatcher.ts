import { DEFAULT_EVENT_CONCURRENCY } from "../config/index.ts";
import type { Db } from "../db/index.ts";
import { inTransaction } from "../db/pool.ts";
import { isInfrastructureError } from "../db/index.ts";
import { coerceError } from "../errors.ts";
import type { InvokeResult, Invoker } from "../invoke/types.ts";
import type { Logger } from "../log/logger.ts";
import type { ActiveFunction } from "../registry/types.ts";
import {
  backoffMs, claimEvents, completeAndClaim, completeEvent, failClaimed, failInfrastructure, pruneDone, releaseClaimed, type ClaimedEvent,
} from "./queue.ts";

/** The channel `hangar.capture_events()` notifies: a wake-up hint carrying the function name. */
export const EVENTS_CHANNEL = "hangar_events";

export interface DispatcherOptions {
  /** Poll interval, the fallback for lost NOTIFYs. Default 1000. */
  pollMs?: number;
  /** Lease on a claimed at-least-once event; raised to the function's wallMs + 15 s when shorter. Default 60000. */
  leaseMs?: number;
  /** Attempts before an event is dead-lettered. Default 5. */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt, with jitter. Default 1000. */
  backoffBaseMs?: number;
  /** Cap on the retry delay. Default 1 hour. */
  maxBackoffMs?: number;
  /**
   * Events of one function handled at once (never two of one row), never
   * more than its `limits.concurrency`. Default 16 (HANGAR_EVENT_CONCURRENCY):
   * handlers mostly wait on I/O, so throughput grows with it.
   */
  concurrencyPerFunction?: number;
  /** The same for exactly-once functions, whose handlers each hold a session of the host pool. Default 4. */
  exactlyOnceConcurrency?: number;
  /** wallMs for functions that set none (the host's default limit). Default 30000. */
  defaultWallMs?: number;
  /** Done events are deleted this long after they finished. Default 7 days; 0 keeps them. */
  retainDoneMs?: number;
  /** Cap on the retry delay after a database (not handler) failure. Default 5000. */
  maxInfraBackoffMs?: number;
}

export interface DispatcherDeps {
  db: Db;
  invoker: Invoker;
  /** The functions active on this instance right now. */
  functions: () => ActiveFunction[];
  nodeId: string;
  logger?: Logger;
  options?: DispatcherOptions;
}

/** Counters for metrics. */
export interface DispatcherStats {
  /** Attempts that failed on the database and were retried without spending the handler's attempts. */
  infraRetries: number;
}

export interface EventDispatcher {
  stats(): DispatcherStats;
  /** Stop claiming, let in-flight handlers finish, clear timers. Safe twice. */
  close(): Promise<void>;
  /** Look for claimable events now (after a deploy, a NOTIFY, a reconnect). */
  wake(): void;
}

const LEASE_MARGIN_MS = 15_000;

/**
 * One at-least-once function's events on this node: claimed ahead (so a
 * finished handler's slot starts the next event without a round trip),
 * running, and handled but not yet marked done (written in one statement
 * with the next claim).
 */
interface Lane {
  fn: ActiveFunction;
  queue: ClaimedEvent[];
  running: number;
  finished: ClaimedEvent[];
}
const PRUNE_EVERY_MS = 60_000;

/**
 * Deliver table events to the functions subscribed to them: wake on NOTIFY,
 * poll as a fallback, claim with SKIP LOCKED, retry with backoff, dead-letter.
 * Events of functions not active here (undeployed, or no longer subscribed
 * to that table) are left pending, never dropped.
 */
export async function startEventDispatcher(deps: DispatcherDeps): Promise<EventDispatcher> {
  const { db, invoker, nodeId } = deps;
  const log = deps.logger ?? silentLogger;
  const o = deps.options ?? {};
  const pollMs = o.pollMs ?? 1000;
  const maxAttempts = o.maxAttempts ?? 5;
  const baseMs = o.backoffBaseMs ?? 1000;
  const maxBackoff = o.maxBackoffMs ?? 3_600_000;
  const concurrency = Math.max(1, o.concurrencyPerFunction ?? DEFAULT_EVENT_CONCURRENCY);
  const exactlyOnce = Math.max(1, Math.min(concurrency, o.exactlyOnceConcurrency ?? 4));
  const retainDoneMs = o.retainDoneMs ?? 7 * 24 * 3_600_000;
  const maxInfraBackoff = o.maxInfraBackoffMs ?? 5_000;
  const stats: DispatcherStats = { infraRetries: 0 };

  const inflight = new Map<string, number>();
  const tasks = new Set<Promise<void>>();
  let ticking: Promise<void> | null = null;
  let dirty = false;
  let closed = false;
  let closing: Promise<void> | null = null;

  const wallOf = (fn: ActiveFunction) => fn.config.limits.wallMs ?? o.defaultWallMs ?? 30_000;
  const leaseFor = (fn: ActiveFunction) => Math.max(o.leaseMs ?? 60_000, wallOf(fn) + LEASE_MARGIN_MS);
  /** Handlers of `fn` run at once here: its lane's slots. */
  const slotsOf = (fn: ActiveFunction) => Math.max(1, Math.min(fn.config.delivery === "exactly-once" ? exactlyOnce : concurrency, fn.config.limits.concurrency ?? concurrency));
  const tablesOf = (fn: ActiveFunction) => fn.config.events.map((e) => `${e.schema}.${e.table}`);
  const retryIn = (attempt: number) => backoffMs(attempt, baseMs, maxBackoff);
  const infraRetryIn = (ev: ClaimedEvent) => backoffMs((ev.infra_failures ?? 0) + 1, 500, maxInfraBackoff);

  /**
   * Hangar's own bookkeeping after a handler ran: retried on database
   * failures (with back-off) until `withinMs`, so a blip does not turn a
   * finished handler into a lease expiry that spends an attempt.
   */
  async function persist<T>(what: () => Promise<T>, withinMs: number): Promise<T> {
    const until = Date.now() + withinMs;
    for (let i = 0; ; i++) {
      try {
        return await what();
      } catch (err) {
        if (!isInfrastructureError(err) || closed || Date.now() > until) throw err;
        await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** i)));
      }
    }
  }

  function track(fnName: string, work: () => Promise<void>): void {
    inflight.set(fnName, (inflight.get(fnName) ?? 0) + 1);
    const p = work()
      .catch((err) => log.error("event handling failed", { function: fnName, err: coerceError(err) }))
      .finally(() => {
        inflight.set(fnName, (inflight.get(fnName) ?? 1) - 1);
        tasks.delete(p);
        // Its row's next event may be claimable now, and there is a free slot.
        wake();
      });
    tasks.add(p);
  }

  /** null on success; else what failed, and whether it was the database rather than the handler. */
  async function invokeEvent(fn: ActiveFunction, ev: ClaimedEvent, sqlSession?: Parameters<Invoker["invoke"]>[0]["sqlSession"]): Promise<Failure | null> {
    let result: InvokeResult;
    try {
      result = await invoker.invoke({
        functionName: fn.name,
        trigger: "event",
        kind: "event",
        payload: { id: ev.id, schema: ev.schema_name, table: ev.table_name, op: ev.op, old: ev.old, new: ev.new, attempt: ev.attempts },
        sqlSession,
      });
    } catch (err) {
      return { error: `invoke failed: ${coerceError(err).message}`, infra: isInfrastructureError(err) };
    }
    if (result.error) {
      const error = `${result.error.code}: ${result.error.message}`;
      // A host binding failure (or a host error) whose cause is the database link or a pool cap: not the handler's fault.
      return { error, infra: (result.error.kind === "host" || result.error.kind === "internal") && isInfrastructureError(result.error.message) };
    }
    return null;
  }

  async function runLeased(lane: Lane, ev: ClaimedEvent): Promise<void> {
    const fn = lane.fn;
    const lease = leaseFor(fn);
    const failure: Failure | null =
      ev.attempts > maxAttempts
        ? { error: `lease expired on its last attempt ${maxAttempts} times (an instance died or hung handling it)`, infra: false }
        : await invokeEvent(fn, ev);
    if (failure === null) {
      // Marked done by the lane's next sync, with other finished events and the next claim, in one statement.
      lane.finished.push(ev);
      return;
    }
    if (failure.infra) {
      stats.infraRetries++;
      await persist(() => failInfrastructure(db, ev, nodeId, { error: failure.error, retryInMs: infraRetryIn(ev), rolledBack: false }), lease / 2);
      log.warn("event failed on the database; will retry without spending an attempt", { function: fn.name, event: ev.id, error: failure.error });
      return;
    }
    const status = await persist(() => failClaimed(db, ev, nodeId, { error: failure.error, maxAttempts, retryInMs: retryIn(ev.attempts) }), lease / 2);
    logFailure(fn.name, ev.id, ev.attempts, status, failure.error);
  }

  /**
   * Exactly-once, on one session: the event was claimed in a statement of its
   * own (so the attempt is counted durably, even if the handler kills this
   * instance: a crash-looping event is dead-lettered at the limit), then in
   * one transaction lock it, run the handler's SQL on the same session, and
   * mark it done: its effects commit with the completion or not at all. A
   * failed attempt rolls back to a savepoint taken before the handler, so its
   * SQL is undone while the failure is recorded in the same commit.
   */
  async function runExactlyOnce(fn: ActiveFunction, ev: ClaimedEvent): Promise<void> {
    const lease = leaseFor(fn);
    let txError: unknown = null;
    // Nothing but `s` may touch the database in here: on PGlite the pool is one session.
    await db.withClient(async (s) => {
      if (ev.attempts > maxAttempts) {
        const error = `started ${ev.attempts - 1} times without finishing (an instance died or hung handling it, or its handler kills the instance)`;
        const status = await failClaimed(s, ev, nodeId, { error, maxAttempts, retryInMs: 0 });
        logFailure(fn.name, ev.id, ev.attempts, status, error);
        return;
      }
      try {
        await inTransaction(s, async (tx) => {
          // Lock the claim, and bound the transaction held across the handler by its lease (not
          // Hangar's usual idle bound), in one round trip.
          const { rowCount } = await tx.query(
            `select pg_catalog.set_config('idle_in_transaction_session_timeout', $4, true)
               from hangar.events where id = $1 and status = 'running' and locked_by = $2 and attempts = $3 for update`,
            [ev.id, nodeId, ev.attempts, `${Math.round(lease)}ms`],
          );
          if (!rowCount) return;
          await tx.query("savepoint hangar_handler");
          const failure = await invokeEvent(fn, ev, tx);
          if (failure === null) {
            // The savepoint ends with the commit; releasing it first would be one more round trip.
            await completeEvent(tx, ev, nodeId);
            return;
          }
          await tx.query("rollback to savepoint hangar_handler");
          if (failure.infra) {
            stats.infraRetries++;
            await failInfrastructure(tx, ev, nodeId, { error: failure.error, retryInMs: infraRetryIn(ev), rolledBack: false });
            log.warn("event failed on the database; will retry without spending an attempt", { function: fn.name, event: ev.id, error: failure.error });
            return;
          }
          const status = await failClaimed(tx, ev, nodeId, { error: failure.error, maxAttempts, retryInMs: retryIn(ev.attempts) });
          logFailure(fn.name, ev.id, ev.attempts, status, failure.error);
        });
      } catch (err) {
        txError = err;
      }
    });
    if (txError === null) return;
    // The transaction failed (session lost, commit refused): none of it stands; the claim (committed before) does.
    const error = `transaction failed: ${coerceError(txError).message}`;
    if (isInfrastructureError(txError)) {
      stats.infraRetries++;
      await persist(() => failInfrastructure(db, ev, nodeId, { error, retryInMs: infraRetryIn(ev), rolledBack: false }), lease / 2);
      log.warn("event failed on the database; will retry without spending an attempt", { function: fn.name, event: ev.id, error });
      return;
    }
    const status = await persist(() => failClaimed(db, ev, nodeId, { error, maxAttempts, retryInMs: retryIn(ev.attempts) }), lease / 2);
    logFailure(fn.name, ev.id, ev.attempts, status, error);
  }

  function logFailure(fnName: string, id: string, attempt: number, status: string | null, error: string): void {
    if (status === "dead") log.error("event dead-lettered", { function: fnName, event: id, attempt, error });
    else log.warn("event failed; will retry", { function: fnName, event: id, attempt, error });
  }

  const lanes = new Map<string, Lane>();

  /** Start queued events while the lane has free slots. */
  function pump(lane: Lane): void {
    while (!closed && lane.running < slotsOf(lane.fn) && lane.queue.length) {
      const ev = lane.queue.shift()!;
      lane.running++;
      track(lane.fn.name, () =>
        runLeased(lane, ev).finally(() => {
          lane.running--;
          // The next queued event starts now; the finished one is written by the tick this wakes.
          pump(lane);
        }),
      );
    }
  }

  /**
   * Bring a lane up to date in one statement: mark its finished events done
   * and claim enough to keep every slot busy plus as many queued. Returns
   * whether another sync is due at once (a finished event's successor on its
   * row becomes claimable only after the statement that marked it done).
   */
  async function syncLane(lane: Lane, fn: ActiveFunction): Promise<boolean> {
    lane.fn = fn;
    const tables = tablesOf(fn);
    const stale = lane.queue.filter((ev) => !tables.includes(`${ev.schema_name}.${ev.table_name}`));
    if (stale.length) {
      // It no longer subscribes to that table: give the events back, unspent.
      lane.queue = lane.queue.filter((ev) => !stale.includes(ev));
      await releaseClaimed(db, stale, nodeId);
    }
    const slots = slotsOf(fn);
    const free = Math.max(0, slots - lane.running - lane.queue.length);
    const limit = closed ? 0 : Math.max(0, 2 * slots - lane.running - lane.queue.length);
    if (!limit && !lane.finished.length) return false;
    const finished = lane.finished.splice(0);
    const lease = leaseFor(fn);
    let r: Awaited<ReturnType<typeof completeAndClaim>>;
    try {
      r = await completeAndClaim(db, {
        functionName: fn.name, tables, limit, leaseMs: lease, nodeId, finished, startNow: free,
        // A queued event waits at most for a running handler to end.
        queuedLeaseMs: lease + wallOf(fn),
      });
    } catch (err) {
      lane.finished.unshift(...finished);
      throw err;
    }
    if (r.completed < finished.length) {
      log.warn("event lease lost before completion; it will run again", { function: fn.name, events: finished.length - r.completed });
    }
    lane.queue.push(...r.claimed);
    pump(lane);
    return r.completed > 0 && limit > 0;
  }

  /** Give back a lane's queued events and write its finished ones (closing, or the function left this node). */
  async function drainLane(lane: Lane): Promise<void> {
    const queued = lane.queue.splice(0);
    if (queued.length) await persist(() => releaseClaimed(db, queued, nodeId), 5_000);
    if (lane.finished.length) {
      const finished = lane.finished.splice(0);
      await persist(() => completeAndClaim(db, { functionName: lane.fn.name, tables: [], limit: 0, leaseMs: 0, nodeId, finished, startNow: 0, queuedLeaseMs: 0 }), 5_000);
    }
  }

  async function tick(): Promise<void> {
    const active = new Set<string>();
    for (const fn of deps.functions()) {
      if (closed) return;
      if (!fn.config.events.length) continue;
      active.add(fn.name);
      try {
        if (fn.config.delivery === "exactly-once") {
          const free = slotsOf(fn) - (inflight.get(fn.name) ?? 0);
          if (free <= 0) continue;
          // Claimed in a statement of their own (each attempt counted durably, even if its handler
          // kills this instance); then each holds a transaction (a session) while it runs.
          const events = await claimEvents(db, { functionName: fn.name, tables: tablesOf(fn), limit: free, leaseMs: leaseFor(fn), nodeId });
          for (const ev of events) track(fn.name, () => runExactlyOnce(fn, ev));
        } else {
          let lane = lanes.get(fn.name);
          if (!lane) lanes.set(fn.name, (lane = { fn, queue: [], running: 0, finished: [] }));
          if (await syncLane(lane, fn)) dirty = true;
        }
      } catch (err) {
        log.warn("claiming events failed", { function: fn.name, err: coerceError(err) });
      }
    }
    for (const [name, lane] of lanes) {
      if (active.has(name) && lane.fn.config.delivery !== "exactly-once") continue;
      if (lane.running) {
        // Its running handlers finish first; their events are written on a later tick.
        await drainLane({ ...lane, finished: [] }).catch((err) => log.warn("releasing events failed", { function: name, err: coerceError(err) }));
        lane.queue = [];
        continue;
      }
      lanes.delete(name);
      await drainLane(lane).catch((err) => log.warn("releasing events failed", { function: name, err: coerceError(err) }));
    }
  }

  function wake(): void {
    if (closed) return;
    if (ticking) {
      dirty = true;
      return;
    }
    ticking = (async () => {
      do {
        dirty = false;
        await tick();
      } while (dirty && !closed);
    })().finally(() => (ticking = null));
  }

  const unlisten = await db.listen(EVENTS_CHANNEL, () => wake());
  const offReconnect = db.onReconnect(() => wake());
  const poll = setInterval(wake, pollMs);
  poll.unref();
  let pruning = false;
  const prune = setInterval(() => {
    if (retainDoneMs <= 0 || pruning || closed) return;
    pruning = true;
    pruneDone(db, retainDoneMs)
      .then((n) => n && log.debug("pruned done events", { count: n }))
      .catch((err) => log.warn("pruning done events failed", { err: coerceError(err) }))
      .finally(() => (pruning = false));
  }, PRUNE_EVERY_MS);
  prune.unref();
  wake();

  return {
    wake,
    stats: () => ({ ...stats }),
    close() {
      closing ??= (async () => {
        closed = true;
        clearInterval(poll);
        clearInterval(prune);
        offReconnect();
        await unlisten().catch(() => {});
        await ticking?.catch(() => {});
        while (tasks.size) await Promise.allSettled([...tasks]);
        for (const lane of lanes.values()) await drainLane(lane).catch((err) => log.warn("writing finished events failed", { function: lane.fn.name, err: coerceError(err) }));
        lanes.clear();
      })();
      return closing;
    },
  };
}

interface Failure {
  error: string;
  /** The database failed, not the handler: retry without spending an attempt. */
  infra: boolean;
}

const noop = () => {};
const ignore = () => {};
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => silentLogger };
