import type { Cron } from "croner";
import type { CatchUp } from "./types.ts";

export interface PlanOptions {
  catchUp: CatchUp;
  /** Most missed occurrences run (catchUp "all") and, separately, most recorded as missed. */
  cap: number;
  /** Occurrences at most this old are on time. */
  graceMs: number;
  /**
   * When some instance was running: a late occurrence inside it was held
   * back by a busy fleet (the budget, a slow claim loop), not missed, and
   * runs late whatever catchUp says.
   */
  alive?: { from: Date; to: Date } | null;
  /** A delayed occurrence older than this is skipped instead of run. Default: never. */
  maxDelayMs?: number;
  /** Most occurrences to run now (the budget's share); the cursor stops before the next one. Default: all. */
  maxRuns?: number;
}

export interface Plan {
  /** Occurrences to run, oldest first; `catchUp` marks the missed ones run late, `delayed` the ones a busy fleet held back. */
  run: { at: Date; catchUp: boolean; delayed: boolean }[];
  /** Missed occurrences not run, to record as missed (the most recent `cap`). */
  missed: Date[];
  /** Delayed occurrences past maxDelayMs, to record as skipped. */
  overdue: Date[];
  /** Missed occurrences neither run nor recorded; a lower bound when `more` is true. */
  dropped: number;
  more: boolean;
  /** The latest occurrence decided: the cursor moves here. Null when nothing was. */
  cursor: Date | null;
  /** Occurrences after the cursor are due but past maxRuns: they wait for a later claim. */
  deferred: boolean;
}

/**
 * What to do with the occurrences in (cursor, now]. The common case (one
 * occurrence due) walks forward from the cursor; after a long outage the
 * walk stops early and the most recent occurrences are taken backwards from
 * now instead, so a per-second schedule idle for a week costs no more.
 * Decisions are made oldest first and stop before the run past maxRuns, so
 * what is left stays due and is decided the same way later.
 */
export function planDue(cron: Cron, cursor: Date, now: Date, opts: PlanOptions): Plan {
  const limit = 2 * opts.cap + 64;
  let due: Date[] = [];
  let more = false;
  for (let p = cursor; ; ) {
    const next = cron.nextRun(p);
    if (!next || next.getTime() > now.getTime()) break;
    if (due.length === limit) {
      more = true;
      break;
    }
    due.push(next);
    p = next;
  }
  if (more) {
    // previousRuns is strictly before its reference; +1 ms makes "now" itself count.
    due = cron.previousRuns(limit, new Date(now.getTime() + 1)).reverse().filter((d) => d.getTime() > cursor.getTime());
  }
  const plan: Plan = { run: [], missed: [], overdue: [], dropped: 0, more, cursor: null, deferred: false };
  if (!due.length) return { ...plan, more: false };

  const t = now.getTime();
  const w = opts.alive;
  const age = (d: Date) => t - d.getTime();
  const isDelayed = (d: Date) => age(d) > opts.graceMs && !!w && d.getTime() >= w.from.getTime() && d.getTime() <= w.to.getTime();
  const late = due.filter((d) => age(d) > opts.graceMs && !isDelayed(d));
  const lateSet = new Set(late);
  let caught: Date[] = [];
  if (opts.catchUp === "latest") caught = late.slice(-1);
  else if (opts.catchUp === "all") caught = late.slice(-opts.cap);
  const notRun = late.slice(0, late.length - caught.length);
  const recorded = new Set(notRun.slice(-opts.cap));
  const caughtSet = new Set(caught);

  const maxRuns = opts.maxRuns ?? Infinity;
  const maxDelayMs = opts.maxDelayMs ?? Infinity;
  for (const at of due) {
    if (recorded.has(at)) plan.missed.push(at);
    else if (lateSet.has(at) && !caughtSet.has(at)) plan.dropped++;
    else if (isDelayed(at) && age(at) > maxDelayMs) plan.overdue.push(at);
    else if (plan.run.length === maxRuns) {
      plan.deferred = true;
      break;
    } else plan.run.push({ at, catchUp: caughtSet.has(at), delayed: isDelayed(at) });
    plan.cursor = at;
  }
  return plan;
}
