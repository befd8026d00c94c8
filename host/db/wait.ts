import { UserError } from "../errors.ts";
import { isInfrastructureError } from "./errors.ts";
import type { Sql } from "./types.ts";

export interface WaitReport {
  /** e.g. "waiting for the database at 10.0.0.5:5432 (connect ECONNREFUSED); attempt 3, retrying in 2.0 s" */
  message: string;
  attempt: number;
  target: string;
  reason: string;
  retryInMs: number;
}

/** Where a URL points, without its password. */
export function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || "localhost"}:${u.port || "5432"}${u.pathname && u.pathname !== "/" ? u.pathname : ""}`;
  } catch {
    return "DATABASE_URL";
  }
}

/**
 * Run `select 1` until the database answers, with capped exponential
 * back-off, reporting each wait. Failures that waiting cannot fix (bad
 * password, no such database, unknown host name) end it at once.
 */
export async function waitForDb(db: Sql, url: string, waitMs: number, report: (r: WaitReport) => void): Promise<void> {
  const target = describeTarget(url);
  const deadline = Date.now() + waitMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await db.query("select 1");
      if (attempt > 1) report({ message: `the database at ${target} answered after ${attempt} attempts`, attempt, target, reason: "", retryInMs: 0 });
      return;
    } catch (err) {
      const reason = (err as Error)?.message || String(err);
      const code = (err as { code?: string }).code;
      const permanent = code === "ENOTFOUND" || code === "28P01" || code === "28000" || code === "3D000" || !isInfrastructureError(err);
      if (permanent || Date.now() >= deadline) {
        const why = permanent ? "" : ` (gave up after ${Math.round(waitMs / 1000)} s; HANGAR_DB_WAIT_MS sets how long to wait)`;
        throw new UserError(`cannot use the database at ${target}: ${reason}${why}`, "DB_UNREACHABLE", 503, { cause: err });
      }
      const retryInMs = Math.min(5_000, 250 * 2 ** Math.min(attempt - 1, 5), Math.max(0, deadline - Date.now()));
      report({
        message: `waiting for the database at ${target} (${reason}); attempt ${attempt}, retrying in ${(retryInMs / 1000).toFixed(1)} s`,
        attempt,
        target,
        reason,
        retryInMs,
      });
      await new Promise((r) => setTimeout(r, retryInMs));
    }
  }
}
