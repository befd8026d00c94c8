import type { Cron } from "croner";
import type { CatchUp } from "./types.ts";

export interface PlanOptions {
  catchUp: CatchUp;
  /** Most missed occurrences run (catchUp "all") and, separately, most recorded as missed. */
  cap: number;
  /** Occurrences at most this old are on time. */
  graceMs: number;
}

export interface Plan {
  /** Occurrences to run, oldest first; `catchUp` marks the late ones. */
  run: { at: Date; catchUp: boolean }[];
  /** Missed occurrences not run, to record as missed (the most recent `cap`). */
  missed: Date[];
  /** Missed occurrences neither run nor recorded; a lower bound when `more` is true. */
  dropped: number;
  more: boolean;
  /** The latest due occurrence: the cursor moves here. Null when nothing is due. */
  cursor: Date | null;
}

/**
 * What to do with the occurrences in (cursor, now]. The common case (one
 * occurrence due) walks forward from the cursor; after a long outage the
 * walk stops early and the most recent occurrences are taken backwards from
 * now instead, so a per-second schedule idle for a week costs no more.
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
  if (!due.length) return { run: [], missed: [], dropped: 0, more: false, cursor: null };

  const onTime = due.filter((d) => now.getTime() - d.getTime() <= opts.graceMs);
  const late = due.filter((d) => now.getTime() - d.getTime() > opts.graceMs);
  let caught: Date[] = [];
  if (opts.catchUp === "latest") caught = late.slice(-1);
  else if (opts.catchUp === "all") caught = late.slice(-opts.cap);
  const notRun = late.slice(0, late.length - caught.length);
  const missed = notRun.slice(-opts.cap);
  return {
    run: [...caught.map((at) => ({ at, catchUp: true })), ...onTime.map((at) => ({ at, catchUp: false }))],
    missed,
    dropped: notRun.length - missed.length,
    more,
    cursor: due[due.length - 1],
  };
}
