import type { Cron } from "croner";
import { parseSchedule } from "../build/index.ts";
import { coerceError } from "../errors.ts";
import { type Claimed, type ClaimSettings, claimDue } from "./claim.ts";
import { dbClock } from "./clock.ts";
import { functionJob, internalJob } from "./jobs.ts";
import { finishRun, heartbeat, startRun, sweepDead } from "./ledger.ts";
import type { CronJob, InternalJob, Scheduler, SchedulerDeps } from "./types.ts";

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
  const heartbeatMs = o.heartbeatMs ?? 5_000;
  const defaultWallMs = o.defaultWallMs ?? 30_000;
  const settings: ClaimSettings = {
    nodeId: deps.nodeId,
    catchUpCap: o.catchUpCap ?? 100,
    graceMs: o.graceMs ?? 5_000,
    deadAfterMs: o.deadAfterMs ?? 30_000,
  };
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

  const tick = async () => {
    const now = await clock.now();
    for (const entry of entries.values()) {
      if (stopping) return;
      if (entry.nextDue && entry.nextDue.getTime() > now.getTime()) continue;
      try {
        await claimEntry(entry, now);
      } catch (err) {
        log.error("cron claim failed", { function: entry.job.name, err: coerceError(err) });
      }
    }
  };

  const claimEntry = async (entry: Entry, now: Date) => {
    const { job } = entry;
    const r = await claimDue(db, job, entry.cron, now, settings);
    if (r.busy) return;
    // The schedule may have been replaced by a refresh while we were claiming.
    if (entries.get(job.name) === entry) entry.nextDue = entry.cron.nextRun(r.cursor);
    for (const s of r.skipped) log.info("cron occurrence skipped", { function: job.name, scheduledAt: s.at.toISOString(), reason: s.reason });
    if (r.missed || r.dropped) {
      log.warn("cron occurrences missed", { function: job.name, catchUp: job.catchUp, recorded: r.missed, notRecorded: r.more ? `${r.dropped}+` : r.dropped });
    }
    if (r.claimed.length) runBatch(job, r.claimed);
  };

  const runBatch = (job: CronJob, claimed: Claimed[]) => {
    for (const c of claimed) owned.set(c.runId, job);
    const p = (async () => {
      // One claim's occurrences run one after another, oldest first: a catch-up never overlaps itself.
      for (const c of claimed) await runOne(job, c);
    })().finally(() => batches.delete(p));
    batches.add(p);
  };

  const runOne = async (job: CronJob, c: Claimed) => {
    const fields = { function: job.name, runId: c.runId, scheduledAt: c.scheduledAt.toISOString() };
    try {
      if (stopping) {
        await finishRun(db, c.runId, { status: "missed", now: await clock.now(), reason: `instance ${deps.nodeId} shut down before the run started` });
        return;
      }
      if (!(await startRun(db, c.runId, await clock.now()))) {
        log.warn("cron run no longer ours to start", fields);
        return;
      }
      const t0 = performance.now();
      log.debug("cron run started", { ...fields, catchUp: c.catchUp });
      const { error, requestId } = await job.run({ runId: c.runId, scheduledAt: c.scheduledAt });
      const durationMs = Math.round(performance.now() - t0);
      const status = error === null ? "succeeded" : "failed";
      const recorded = await finishRun(db, c.runId, { status, now: await clock.now(), error, requestId, durationMs });
      if (!recorded) log.warn("cron run finished after it was marked died", { ...fields, status });
      else if (error !== null) log.warn("cron run failed", { ...fields, error, durationMs });
      else log.info("cron run succeeded", { ...fields, durationMs });
    } catch (err) {
      log.error("cron run bookkeeping failed", { ...fields, err: coerceError(err) });
    } finally {
      owned.delete(c.runId);
    }
  };

  const beat = async () => {
    try {
      const now = await clock.now();
      await heartbeat(db, [...owned.keys()], now);
      if (stopping) return;
      for (const d of await sweepDead(db, now, settings.deadAfterMs)) {
        log.warn("cron run died with its instance", { function: d.function_name, runId: d.run_id, node: d.node_id, scheduledAt: d.scheduled_at.toISOString() });
      }
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
      // Past every wall limit: say so now rather than leave them for another node's sweep.
      const now = await clock.now().catch(() => new Date());
      for (const [runId, job] of owned) {
        await finishRun(db, runId, { status: "died", now, reason: `instance ${deps.nodeId} shut down while the run was still going` }).catch(() => {});
        log.warn("cron run abandoned at shutdown", { function: job.name, runId });
      }
    }
  };

  return {
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
