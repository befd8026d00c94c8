import type { Cron } from "croner";
import type { Db } from "../db/index.ts";
import { advanceCursor, claimRun, findActive, readState, recordNotRun, resetState, tryLock } from "./ledger.ts";
import { planDue } from "./plan.ts";
import type { CronJob } from "./types.ts";

export interface ClaimSettings {
  nodeId: string;
  catchUpCap: number;
  graceMs: number;
  deadAfterMs: number;
  /** A run held back by a busy fleet longer than this is skipped. */
  maxDelayMs: number;
  /** The fleet counts as running through gaps this long between schedulers' marks (see markAlive). */
  aliveGapMs: number;
  /** The budget, as ledger reasons name it, e.g. "cron budget 100 runs/s". */
  budget: string;
}

export interface Claimed {
  runId: string;
  scheduledAt: Date;
  catchUp: boolean;
}

export type ClaimOutcome =
  /** Another instance holds the schedule's lock right now; look again next tick. */
  | { busy: true }
  | {
      busy: false;
      /** The schedule's cursor after this claim. */
      cursor: Date;
      /** Occurrences this node won and must run, oldest first, one after another. */
      claimed: Claimed[];
      skipped: { at: Date; reason: string }[];
      missed: number;
      /** Claimed occurrences a busy fleet had held back (they start late). */
      late: number;
      /** Occurrences held back past maxDelayMs, recorded skipped. */
      overdue: number;
      /** Occurrences left due past `maxRuns`: the budget holds them back for now. */
      deferred: boolean;
      dropped: number;
      more: boolean;
    };

/**
 * One transaction per schedule and tick: take the schedule's advisory lock
 * (try, never wait), read its cursor, decide what is due, and write the
 * ledger rows. The runs themselves happen after commit, outside any
 * transaction. The lock only saves wasted work; the ledger's primary key is
 * what keeps an occurrence from running twice. At most `maxRuns` occurrences
 * are claimed to run (the budget's share); later ones stay due.
 */
export function claimDue(db: Db, job: CronJob, cron: Cron, now: Date, s: ClaimSettings, maxRuns = Infinity): Promise<ClaimOutcome> {
  return db.transaction(async (tx): Promise<ClaimOutcome> => {
    if (!(await tryLock(tx, job.name))) return { busy: true };
    const empty = { busy: false as const, claimed: [], skipped: [], missed: 0, late: 0, overdue: 0, dropped: 0, more: false, deferred: false };
    const state = await readState(tx, job.name);
    if (!state || state.schedule !== job.schedule || state.timezone !== job.timezone) {
      return { ...empty, cursor: await resetState(tx, job.name, job.schedule, job.timezone, now) };
    }
    // Alive up to now when the last mark is recent (this scheduler marks it on every heartbeat).
    const alive = state.alive && { from: state.alive.from, to: now.getTime() - state.alive.to.getTime() <= s.aliveGapMs ? now : state.alive.to };
    const opts = { catchUp: job.catchUp, cap: s.catchUpCap, graceMs: s.graceMs, alive, maxDelayMs: s.maxDelayMs };
    let plan = planDue(cron, state.cursor, now, { ...opts, maxRuns });
    const blocker = job.overlap === "skip" && plan.run.length ? await findActive(tx, job.name, now, s.deadAfterMs) : null;
    // Nothing runs while a previous run is going: every due occurrence is skipped, none held back.
    if (blocker) plan = planDue(cron, state.cursor, now, opts);
    if (!plan.cursor) return { ...empty, cursor: state.cursor, deferred: plan.deferred };

    const base = { name: job.name, nodeId: s.nodeId, now };
    let missed = 0;
    const reason = `missed while no instance was running (catchUp: ${job.catchUp})`;
    for (const at of plan.missed) if (await recordNotRun(tx, { ...base, scheduledAt: at, catchUp: true }, "missed", reason)) missed++;
    let overdue = 0;
    const behind = `the fleet was running but behind (${s.budget})`;
    const tooLate = `not started within ${s.maxDelayMs / 1000} s of its time: ${behind}`;
    for (const at of plan.overdue) if (await recordNotRun(tx, { ...base, scheduledAt: at, catchUp: false }, "skipped", tooLate)) overdue++;

    const claimed: Claimed[] = [];
    let late = 0;
    const skipped: { at: Date; reason: string }[] = [];
    for (const { at, catchUp, delayed } of plan.run) {
      if (blocker) {
        const why = `overlap: previous run ${blocker.run_id} (scheduled ${blocker.scheduled_at.toISOString()}) still running on node ${blocker.node_id}`;
        if (await recordNotRun(tx, { ...base, scheduledAt: at, catchUp }, "skipped", why)) skipped.push({ at, reason: why });
        continue;
      }
      const why = delayed ? `started late: ${behind}` : null;
      const runId = await claimRun(tx, { ...base, scheduledAt: at, catchUp, versionId: job.versionId, reason: why });
      if (runId) claimed.push({ runId, scheduledAt: at, catchUp });
      if (runId && delayed) late++;
    }
    await advanceCursor(tx, job.name, plan.cursor);
    return { busy: false, cursor: plan.cursor, claimed, skipped, missed, late, overdue, dropped: plan.dropped, more: plan.more, deferred: plan.deferred };
  });
}
