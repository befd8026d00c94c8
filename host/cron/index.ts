// Cron: exactly-once scheduled runs across instances, coordinated by a ledger in Postgres.
export { startScheduler } from "./scheduler.ts";
export { dbClock, manualClock } from "./clock.ts";
export { cronOps } from "./admin.ts";
export { planDue, type Plan } from "./plan.ts";
export type { Clock, CronJob, InternalJob, RunContext, Scheduler, SchedulerDeps, SchedulerOptions, Overlap, CatchUp } from "./types.ts";
