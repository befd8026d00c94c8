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
      dropped: number;
      more: boolean;
    };

/**
 * One transaction per schedule and tick: take the schedule's advisory lock
 * (try, never wait), read its cursor, decide what is due, and write the
 * ledger rows. The runs themselves happen after commit, outside any
 * transaction. The lock only saves wasted work; the ledger's primary key is
 * what keeps an occurrence from running twice.
 */
export function claimDue(db: Db, job: CronJob, cron: Cron, now: Date, s: ClaimSettings): Promise<ClaimOutcome> {
  return db.transaction(async (tx): Promise<ClaimOutcome> => {
    if (!(await tryLock(tx, job.name))) return { busy: true };
    const empty = { busy: false as const, claimed: [], skipped: [], missed: 0, dropped: 0, more: false };
    const state = await readState(tx, job.name);
    if (!state || state.schedule !== job.schedule || state.timezone !== job.timezone) {
      return { ...empty, cursor: await resetState(tx, job.name, job.schedule, job.timezone, now) };
    }
    const plan = planDue(cron, state.cursor, now, { catchUp: job.catchUp, cap: s.catchUpCap, graceMs: s.graceMs });
    if (!plan.cursor) return { ...empty, cursor: state.cursor };

    const base = { name: job.name, nodeId: s.nodeId, now };
    let missed = 0;
    const reason = `missed while no instance was running (catchUp: ${job.catchUp})`;
    for (const at of plan.missed) if (await recordNotRun(tx, { ...base, scheduledAt: at, catchUp: true }, "missed", reason)) missed++;

    const blocker = job.overlap === "skip" ? await findActive(tx, job.name, now, s.deadAfterMs) : null;
    const claimed: Claimed[] = [];
    const skipped: { at: Date; reason: string }[] = [];
    for (const { at, catchUp } of plan.run) {
      if (blocker) {
        const why = `overlap: previous run ${blocker.run_id} (scheduled ${blocker.scheduled_at.toISOString()}) still running on node ${blocker.node_id}`;
        if (await recordNotRun(tx, { ...base, scheduledAt: at, catchUp }, "skipped", why)) skipped.push({ at, reason: why });
        continue;
      }
      const runId = await claimRun(tx, { ...base, scheduledAt: at, catchUp, versionId: job.versionId });
      if (runId) claimed.push({ runId, scheduledAt: at, catchUp });
    }
    await advanceCursor(tx, job.name, plan.cursor);
    return { busy: false, cursor: plan.cursor, claimed, skipped, missed, dropped: plan.dropped, more: plan.more };
  });
}
