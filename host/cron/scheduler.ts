import type { Cron } from "croner";
import { parseSchedule } from "../build/index.ts";
import { isInfrastructureError } from "../db/index.ts";
import { coerceError } from "../errors.ts";
import { markAlive, returnTokens, takeTokens } from "./fleet.ts";
import { type Claimed, type ClaimSettings, claimDue } from "./claim.ts";
import { dbClock } from "./clock.ts";
import { functionJob, internalJob } from "./jobs.ts";
import { finishRun, handOver, heartbeat, retryLater, startRun, sweepDead } from "./ledger.ts";
import type { CronJob, InternalJob, Scheduler, SchedulerDeps, SchedulerStats } from "./types.ts";

interface Entry {
  job: CronJob;
  cron: Cron;
  /** The first occurrence after the last cursor this node saw; nothing to do before it. Null: ask the database. */
  nextDue: Date | null;
}

const noop = () => {};
const silent = { debug: noop, info: noop, warn: noop, error: noop, child: () => silent };

/**
 * Run every instance's share of the cron schedules. Each tick, every schedule
 * with an occurrence due by the (database) clock is claimed in one short
 * transaction (see claimDue); the winner runs it through the Invoker, then
 * records the outcome. Unfinished runs are heartbeated, and runs of nodes
 * that stopped heartbeating are marked died by whichever instance notices.
 */
export async function startScheduler(deps: SchedulerDeps): Promise<Scheduler> {
  const o = deps.options ?? {};
  const tickMs = o.tickMs ?? 250;
  const graceMs = o.graceMs ?? 5_000;
  const deadAfterMs = o.deadAfterMs ?? 30_000;
  const heartbeatMs = o.heartbeatMs ?? Math.min(5_000, Math.max(100, Math.floor(deadAfterMs / 4)));
  const defaultWallMs = o.defaultWallMs ?? 30_000;
  /** Runs started per second across the fleet; 0: no budget. */
  const rate = o.maxRunsPerSecond ?? 100;
  const settings: ClaimSettings = {
    nodeId: deps.nodeId,
    catchUpCap: o.catchUpCap ?? 100,
    graceMs,
    deadAfterMs,
    maxDelayMs: o.maxDelayMs ?? 60_000,
    // A beat can be late under load; a fleet silent for half the dead-after time was down (all its runs are about to be taken over).
    aliveGapMs: Math.max(2 * heartbeatMs, graceMs, deadAfterMs / 2),
    budget: rate === 0 ? "no cron budget" : `cron budget ${rate} runs/s`,
  };
  const maxAttempts = o.maxAttempts ?? 5;
  const { db } = deps;
  const log = (deps.logger ?? silent).child({ component: "cron" });
  const clock = deps.clock ?? dbClock(db);
  await clock.now(); // fail at start, not on the first tick, when the clock cannot be read

  const internal = new Map<string, InternalJob>();
  for (const j of deps.internalJobs ?? []) internal.set(j.name, j);
  let entries = new Map<string, Entry>();
  /** Runs this node claimed and has not finished: heartbeated until they are. */
  const owned = new Map<string, CronJob>();
  const batches = new Set<Promise<void>>();
  let stopping = false;
  let closed: Promise<void> | null = null;
  let tickTimer: NodeJS.Timeout | null = null;
  let beatTimer: NodeJS.Timeout | null = null;
  let ticking: Promise<void> | null = null;
  let again = false;
  let lastTake: number | null = null;
  const stats: SchedulerStats = { startedLate: 0, skippedOverBudget: 0 };

  const rebuild = () => {
    const next = new Map<string, Entry>();
    const jobs: CronJob[] = [];
    for (const f of deps.functions()) {
      const job = functionJob(f, deps.invoker, defaultWallMs);
      if (job) jobs.push(job);
    }
    for (const j of internal.values()) jobs.push(internalJob(j, defaultWallMs));
    for (const job of jobs) {
      const prev = entries.get(job.name);
      const same = prev && prev.job.schedule === job.schedule && prev.job.timezone === job.timezone;
      try {
        next.set(job.name, { job, cron: same ? prev.cron : parseSchedule(job.schedule, job.timezone), nextDue: same ? prev.nextDue : null });
      } catch (err) {
        log.error("cron schedule rejected", { function: job.name, schedule: job.schedule, timezone: job.timezone, err: coerceError(err) });
      }
    }
    entries = next;
  };

  /**
   * One pass over the due schedules: Hangar's own jobs first and outside the
   * budget; functions' schedules this node knows nothing of yet (first sight,
   * restart) learn their cursor without running anything; then the rest,
   * longest-waiting first, as many runs as the fleet's budget grants this
   * instance. What is left stays due, and its next claim comes first.
   */
  const tick = async () => {
    const now = await clock.now();
    const due = [...entries.values()].filter((e) => !e.nextDue || e.nextDue.getTime() <= now.getTime());
    const own = due.filter((e) => e.job.name.startsWith("_"));
    const user = due.filter((e) => !e.job.name.startsWith("_"));
    for (const entry of own) await claimEntry(entry, now);
    if (!rate) {
      for (const entry of user) await claimEntry(entry, now);
      return;
    }
    for (const entry of user) if (!entry.nextDue) await claimEntry(entry, now, 0);
    const known = user.filter((e) => e.nextDue && e.nextDue.getTime() <= now.getTime()).sort((a, b) => a.nextDue!.getTime() - b.nextDue!.getTime());
    if (!known.length || stopping) return;
    // This instance's share: what the bucket refills in the time since its last take (another instance takes the rest).
    const share = Math.max(1, Math.min(rate, Math.ceil((rate * Math.max(tickMs, now.getTime() - (lastTake ?? -Infinity))) / 1000)));
    const want = Math.min(share, known.reduce((n, e) => n + (e.job.catchUp === "all" ? settings.catchUpCap : 4), 0));
    let left = await takeTokens(db, want, rate, now);
    lastTake = now.getTime();
    try {
      for (const entry of known) {
        if (left <= 0 || stopping) break;
        left -= await claimEntry(entry, now, left);
      }
    } finally {
      if (left > 0) await returnTokens(db, left, rate).catch((err) => log.warn("cron budget tokens not returned", { left, err: coerceError(err) }));
    }
  };

  /** Claim one schedule's due occurrences (at most maxRuns to run); returns how many this node claimed to run. */
  const claimEntry = async (entry: Entry, now: Date, maxRuns = Infinity): Promise<number> => {
    if (stopping) return 0;
    const { job } = entry;
    let r;
    try {
      r = await claimDue(db, job, entry.cron, now, settings, maxRuns);
    } catch (err) {
      log.error("cron claim failed", { function: job.name, err: coerceError(err) });
      return 0;
    }
    if (r.busy) return 0;
    // The schedule may have been replaced by a refresh while we were claiming.
    if (entries.get(job.name) === entry) entry.nextDue = entry.cron.nextRun(r.cursor);
    for (const s of r.skipped) log.info("cron occurrence skipped", { function: job.name, scheduledAt: s.at.toISOString(), reason: s.reason });
    if (r.missed || r.dropped) {
      log.warn("cron occurrences missed", { function: job.name, catchUp: job.catchUp, recorded: r.missed, notRecorded: r.more ? `${r.dropped}+` : r.dropped });
    }
    stats.startedLate += r.late;
    stats.skippedOverBudget += r.overdue;
    if (r.overdue) log.warn("cron occurrences skipped: over the fleet's budget", { function: job.name, skipped: r.overdue, maxDelayMs: settings.maxDelayMs, maxRunsPerSecond: rate });
    if (r.claimed.length) runBatch(job, r.claimed);
    return r.claimed.length;
  };

  const runBatch = (job: CronJob, claimed: Claimed[]) => {
    for (const c of claimed) owned.set(c.runId, job);
    const p = (async () => {
      // One claim's occurrences run one after another, oldest first: a catch-up never overlaps itself.
      for (const c of claimed) await runOne(job, c);
    })().finally(() => batches.delete(p));
    batches.add(p);
  };

  /**
   * Hangar's own bookkeeping, retried through a database blip (with
   * back-off) for up to half the dead-after time, so a short outage does not
   * turn a finished run into one another instance runs again.
   */
  const persist = async <T>(what: () => Promise<T>): Promise<T> => {
    const until = Date.now() + settings.deadAfterMs / 2;
    for (let i = 0; ; i++) {
      try {
        return await what();
      } catch (err) {
        if (!isInfrastructureError(err) || Date.now() > until) throw err;
        await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** i)));
      }
    }
  };
  const now = () => clock.now();

  const runOne = async (job: CronJob, c: Claimed) => {
    const fields = { function: job.name, runId: c.runId, scheduledAt: c.scheduledAt.toISOString() };
    try {
      for (let attempt = 1; ; attempt++) {
        if (stopping) {
          // Not started: another instance takes it over at once (never recorded as missed: it was not).
          await handOver(db, [c.runId], deps.nodeId);
          log.info("cron run handed over at shutdown", fields);
          return;
        }
        const t0 = performance.now();
        const r = job.delivery === "exactly-once" ? await runInTransaction(job, c) : await runPlain(job, c);
        if (r === "not-ours") {
          log.warn("cron run no longer ours to start", fields);
          return;
        }
        const durationMs = Math.round(performance.now() - t0);
        if (r.infra && attempt < maxAttempts) {
          // The database failed, not the handler: run it again (at least once per occurrence).
          const n = await persist(() => retryLater(db, c.runId, deps.nodeId, r.error ?? "database failure"));
          if (n === null) return void log.warn("cron run taken over by another instance", fields);
          log.warn("cron run failed on the database; running it again", { ...fields, error: r.error, attempt: n });
          await new Promise((res) => setTimeout(res, Math.min(5_000, 250 * 2 ** attempt)));
          continue;
        }
        const status = r.error === null ? "succeeded" : "failed";
        if (r.recorded === undefined) {
          r.recorded = await persist(async () => finishRun(db, c.runId, { status, now: await now(), error: r.error, requestId: r.requestId, durationMs }, deps.nodeId));
        }
        if (!r.recorded) log.warn("cron run finished after another instance took it over", { ...fields, status });
        else if (r.error !== null) log.warn("cron run failed", { ...fields, error: r.error, durationMs });
        else log.info("cron run succeeded", { ...fields, durationMs });
        return;
      }
    } catch (err) {
      log.error("cron run bookkeeping failed", { ...fields, err: coerceError(err) });
    } finally {
      owned.delete(c.runId);
    }
  };

  type Ran = { error: string | null; requestId: string | null; infra?: boolean; recorded?: boolean };

  /** At-least-once: mark running, run outside any transaction. */
  const runPlain = async (job: CronJob, c: Claimed): Promise<Ran | "not-ours"> => {
    if (!(await persist(async () => startRun(db, c.runId, await now(), deps.nodeId)))) return "not-ours";
    log.debug("cron run started", { function: job.name, runId: c.runId, catchUp: c.catchUp });
    return job.run({ runId: c.runId, scheduledAt: c.scheduledAt });
  };

  /**
   * Exactly-once: the run's ledger row and the handler's SQL commit
   * together. The row stays locked while the handler runs (heartbeats and
   * sweeps skip it: the lock proves its owner alive); if the instance dies,
   * both roll back and another instance runs the occurrence again.
   */
  const runInTransaction = async (job: CronJob, c: Claimed): Promise<Ran | "not-ours"> => {
    try {
      return await db.transaction(async (tx): Promise<Ran | "not-ours"> => {
        await tx.query(`set local idle_in_transaction_session_timeout = '${Math.round(job.wallMs + 15_000)}ms'`);
        if (!(await startRun(tx, c.runId, await now(), deps.nodeId))) return "not-ours";
        await tx.query("savepoint hangar_handler");
        const t0 = performance.now();
        const r: Ran = await job.run({ runId: c.runId, scheduledAt: c.scheduledAt, sqlSession: tx });
        if (r.error !== null) await tx.query("rollback to savepoint hangar_handler");
        else await tx.query("release savepoint hangar_handler");
        if (r.infra) throw Object.assign(new Error(r.error ?? "database failure"), { code: "HANGAR_DB_UNAVAILABLE" });
        const status = r.error === null ? "succeeded" : "failed";
        const durationMs = Math.round(performance.now() - t0);
        r.recorded = await finishRun(tx, c.runId, { status, now: await now(), error: r.error, requestId: r.requestId, durationMs }, deps.nodeId);
        return r;
      });
    } catch (err) {
      if (!isInfrastructureError(err)) throw err;
      return { error: coerceError(err).message, requestId: null, infra: true };
    }
  };

  const beat = async () => {
    try {
      const at = await clock.now();
      await markAlive(db, at, settings.aliveGapMs);
      await heartbeat(db, [...owned.keys()], at);
      if (stopping) return;
      const taken: { job: CronJob; c: Claimed }[] = [];
      for (const d of await sweepDead(db, at, settings.deadAfterMs, deps.nodeId, maxAttempts, [...owned.keys()])) {
        const job = entries.get(d.function_name)?.job;
        if (d.status === "died") {
          log.warn("cron run died with its instance, at its last attempt", { function: d.function_name, runId: d.run_id, node: d.node_id, reason: d.reason });
        } else if (!job) {
          await finishRun(db, d.run_id, { status: "died", now: at, reason: `${d.reason}, which no longer schedules it` }, deps.nodeId);
        } else {
          log.warn("cron run taken over from a silent instance", { function: d.function_name, runId: d.run_id, node: d.node_id, attempt: d.attempt });
          taken.push({ job, c: { runId: d.run_id, scheduledAt: d.scheduled_at, catchUp: d.catch_up } });
        }
      }
      for (const t of taken) runBatch(t.job, [t.c]);
    } catch (err) {
      log.error("cron heartbeat failed", { err: coerceError(err) });
    }
  };

  const loop = () => {
    tickTimer = null;
    if (stopping) return;
    ticking = tick()
      .catch((err) => log.error("cron tick failed", { err: coerceError(err) }))
      .finally(() => {
        ticking = null;
        if (stopping) return;
        tickTimer = setTimeout(loop, again ? 0 : tickMs);
        again = false;
      });
  };

  const beatLoop = () => {
    beatTimer = setTimeout(() => {
      void beat().finally(() => {
        if (beatTimer) beatLoop();
      });
    }, heartbeatMs);
  };

  const poke = () => {
    if (stopping) return;
    if (ticking) again = true;
    else if (tickTimer) {
      clearTimeout(tickTimer);
      tickTimer = setTimeout(loop, 0);
    }
  };

  rebuild();
  await beat(); // sweep runs left by dead nodes before the first claim's overlap check
  beatLoop();
  loop();
  log.info("cron scheduler started", { schedules: entries.size, tickMs });

  const shutdown = async () => {
    stopping = true;
    if (tickTimer) clearTimeout(tickTimer);
    tickTimer = null;
    await ticking;
    const waitMs = Math.max(0, ...[...owned.values()].map((j) => j.wallMs)) + 1_000;
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      Promise.all([...batches]).then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), waitMs))),
    ]);
    clearTimeout(timer);
    if (beatTimer) clearTimeout(beatTimer);
    beatTimer = null;
    if (!waited) {
      // Past every wall limit: hand them over now rather than leave them for another node's sweep to find.
      await handOver(db, [...owned.keys()], deps.nodeId).catch(() => {});
      for (const [runId, job] of owned) log.warn("cron run handed over at shutdown while still going", { function: job.name, runId });
    }
  };

  return {
    stats: () => ({ ...stats }),
    close() {
      closed ??= shutdown();
      return closed;
    },
    refresh() {
      if (stopping) return;
      rebuild();
      poke();
    },
    scheduleInternal(name, schedule, fn, opts = {}) {
      const job: InternalJob = { ...opts, name, schedule, fn };
      internalJob(job, defaultWallMs); // validate the name now, at the caller
      parseSchedule(schedule, opts.timezone ?? "UTC");
      internal.set(name, job);
      rebuild();
      poke();
      return () => {
        if (internal.get(name) !== job) return;
        internal.delete(name);
        rebuild();
      };
    },
  };
}
