import type { Db, Sql } from "../db/index.ts";
import type { Invoker } from "../invoke/types.ts";
import type { Logger } from "../log/logger.ts";
import type { ActiveFunction } from "../registry/types.ts";

/** Where "now" comes from. The default reads the database clock, so instances with skewed clocks agree. */
export interface Clock {
  now(): Promise<Date>;
}

export type Overlap = "skip" | "allow";
export type CatchUp = "none" | "latest" | "all";

/** What one scheduled thing runs: a deployed function or one of Hangar's own jobs. */
export interface CronJob {
  name: string;
  schedule: string;
  timezone: string;
  overlap: Overlap;
  catchUp: CatchUp;
  /** Longest a run may take; close() waits this long for it. */
  wallMs: number;
  versionId: string | null;
  /** exactly-once: the handler's SQL commits in the transaction that records the run. */
  delivery: "at-least-once" | "exactly-once";
  /**
   * Run one occurrence; resolves to its error message (null on success) and
   * whether the failure was the database's rather than the handler's
   * (`infra`: run again, not recorded as failed). Never throws.
   */
  run(occurrence: RunContext): Promise<{ error: string | null; requestId: string | null; infra?: boolean }>;
}

export interface RunContext {
  runId: string;
  scheduledAt: Date;
  /** exactly-once: the open transaction the handler's SQL runs in. */
  sqlSession?: Sql;
}

/** One of Hangar's own maintenance jobs (log rotation, ...); names start with "_". */
export interface InternalJob {
  name: string;
  schedule: string;
  timezone?: string;
  overlap?: Overlap;
  catchUp?: CatchUp;
  wallMs?: number;
  fn(ctx: RunContext): Promise<void>;
}

export interface SchedulerOptions {
  /** How often due occurrences are looked for. Default 250 ms. */
  tickMs?: number;
  /** Most missed occurrences run (catchUp: "all") or recorded as missed. Default 100. */
  catchUpCap?: number;
  /** An occurrence no older than this is on time; older ones were missed and follow catchUp. Default 5 s. */
  graceMs?: number;
  /** How often this node proves its running runs are alive (and sweeps dead ones). Default 5 s. */
  heartbeatMs?: number;
  /** A run whose heartbeat is older than this is taken over by another instance and run again. Default 30 s. */
  deadAfterMs?: number;
  /** Attempts per occurrence (instance deaths and database failures) before it is recorded died/failed. Default 5. */
  maxAttempts?: number;
  /** Runs of functions' schedules started per second across the fleet (a token bucket in Postgres); 0: no limit. Hangar's own jobs are outside it. Default 100. */
  maxRunsPerSecond?: number;
  /** An occurrence the budget held back longer than this is recorded skipped instead of run. Default 60 s. */
  maxDelayMs?: number;
  /** Wall limit for functions that set none (host default). Default 30 s. */
  defaultWallMs?: number;
}

export interface SchedulerDeps {
  db: Db;
  invoker: Invoker;
  /** The active functions as this instance currently sees them; re-read on refresh(). */
  functions: () => ActiveFunction[];
  nodeId: string;
  logger?: Logger;
  clock?: Clock;
  /** Hangar's own jobs, from the start. More can be added with scheduleInternal(). */
  internalJobs?: InternalJob[];
  options?: SchedulerOptions;
}

/** What the fleet's budget did on this instance, counted since start. */
export interface SchedulerStats {
  /** Runs started late because the fleet was busy (the budget held them back). */
  startedLate: number;
  /** Occurrences held back past maxDelayMs, recorded skipped. */
  skippedOverBudget: number;
}

export interface Scheduler {
  stats(): SchedulerStats;
  /** Stop looking for occurrences, wait for running handlers (up to their wall limit), clear timers. Safe twice. */
  close(): Promise<void>;
  /** Re-read functions() (after a deploy or rollback) and look for due occurrences now. */
  refresh(): void;
  /** Add one of Hangar's own jobs; same exactly-once ledger. Returns a function that removes it. */
  scheduleInternal(name: string, schedule: string, fn: (ctx: RunContext) => Promise<void>, opts?: Omit<InternalJob, "name" | "schedule" | "fn">): () => void;
}
