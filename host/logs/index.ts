// Invocation logs: unlogged day partitions, a batched writer that drops (and counts) rather than block, and the query behind `hangar logs`.
export { createLogWriter, type LogWriter, type LogWriterOptions, type LogWriterStats } from "./writer.ts";
export { rotateLogs, ensurePartitions, partitionNames, partitionName, dayOf, type RotateOptions, type RotateResult } from "./partitions.ts";
export { logRotationJob } from "./rotation-job.ts";
export { queryLogs, parseLogQuery, parseSince, type LogEntry, type LogQuery, type LogQueryResult } from "./query.ts";
export { logOps } from "./admin.ts";
export { fanout } from "./fanout.ts";
export { LOGS_CHANNEL } from "./insert.ts";
export type { ConsoleLine, InvocationRecord, InvocationRecorder } from "./types.ts";
