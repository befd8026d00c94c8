import type { InternalJob } from "../cron/types.ts";
import type { Db } from "../db/index.ts";
import type { Logger } from "../log/logger.ts";
import { rotateLogs } from "./partitions.ts";

/**
 * Hourly partition maintenance as one of Hangar's own cron jobs, so it runs
 * once per occurrence across the fleet: `scheduler.scheduleInternal(job.name, job.schedule, job.fn)`
 * or `internalJobs: [logRotationJob(...)]`.
 */
export function logRotationJob(db: Db, retentionDays: number, logger?: Logger): InternalJob {
  return {
    name: "_logs-rotate",
    schedule: "7 * * * *",
    overlap: "skip",
    catchUp: "latest",
    wallMs: 60_000,
    async fn() {
      const r = await rotateLogs(db, { retentionDays });
      if (r.created.length || r.dropped.length) logger?.info("invocation log partitions rotated", { created: r.created, dropped: r.dropped });
    },
  };
}
