import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Sql } from "../db/index.ts";
import type { InvocationRecorder } from "../logs/types.ts";
import { cached } from "./cached.ts";
import { cronLagSeconds, eventCounts } from "./queries.ts";

/** Where the gauges read from; each may be set later with `setSources` (the runtime exists after the recorder). */
export interface MetricSources {
  /** Database for event backlog, dead letters and cron lag. */
  db?: Sql & { poolStats?(): { total: number; idle: number; waiting: number } };
  /** Warm sandbox instances, e.g. `() => runtime.stats().instances`. */
  warmInstances?: () => number;
  /** The log writer's figures (`writer.stats()`). */
  logStats?: () => { written: number; dropped: number; buffered: number };
  /** The cron scheduler's budget figures (`scheduler.stats()`). */
  cronStats?: () => { startedLate: number; skippedOverBudget: number };
}

export interface MetricsOptions extends MetricSources {
  /** How long database-derived gauges are reused between scrapes; default 5 s. */
  cacheMs?: number;
  /** Labels on every series (e.g. { node }). */
  defaultLabels?: Record<string, string>;
}

export interface Metrics {
  /** This instance's own registry (never prom-client's global one). */
  registry: Registry;
  /** Counts and times every invocation; feed it next to the log writer with fanout(). */
  recorder: InvocationRecorder;
  setSources(sources: MetricSources): void;
}

/** A figure of the whole database reads the same in every worker process of `start --workers N`: merged, it is not a sum. */
const WHOLE_DATABASE = { aggregator: "max" } as const;

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Prometheus metrics of one instance: invocations, durations, warm instances, event backlog, cron lag, dropped logs, pool use. */
export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const sources: MetricSources = { db: opts.db, warmInstances: opts.warmInstances, logStats: opts.logStats, cronStats: opts.cronStats };
  const registry = new Registry();
  if (opts.defaultLabels) registry.setDefaultLabels(opts.defaultLabels);
  const ttl = opts.cacheMs ?? 5_000;
  const events = cached(ttl, () => (sources.db ? eventCounts(sources.db) : Promise.resolve({ backlog: 0, dead: 0 })), { backlog: 0, dead: 0 });
  const cronLag = cached(ttl, () => (sources.db ? cronLagSeconds(sources.db) : Promise.resolve(0)), 0);

  const invocations = new Counter({
    name: "hangar_invocations_total",
    help: "Invocations finished, by function, trigger and status (ok or the failure code).",
    labelNames: ["function", "trigger", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "hangar_invocation_duration_seconds",
    help: "Wall-clock time of an invocation, by function and trigger.",
    labelNames: ["function", "trigger"] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: "hangar_instances_warm",
    help: "Warm sandbox instances held by this instance.",
    registers: [registry],
    collect() {
      if (sources.warmInstances) this.set(sources.warmInstances());
    },
  });
  new Gauge({
    name: "hangar_events_backlog",
    help: "Table events pending or running (whole database).",
    ...WHOLE_DATABASE,
    registers: [registry],
    async collect() {
      this.set((await events()).backlog);
    },
  });
  new Gauge({
    name: "hangar_events_dead",
    help: "Table events dead-lettered after their retries (whole database).",
    ...WHOLE_DATABASE,
    registers: [registry],
    async collect() {
      this.set((await events()).dead);
    },
  });
  new Gauge({
    name: "hangar_cron_lag_seconds",
    help: "Longest delay between a cron occurrence being due and starting, over the last hour.",
    ...WHOLE_DATABASE,
    registers: [registry],
    async collect() {
      this.set(await cronLag());
    },
  });
  const heldSeen = { started_late: 0, skipped: 0 };
  new Counter({
    name: "hangar_cron_runs_held_back_total",
    help: "Cron occurrences the fleet's run budget held back on this instance: started late, or skipped past the longest delay.",
    labelNames: ["outcome"] as const,
    registers: [registry],
    collect() {
      const s = sources.cronStats?.();
      if (!s) return;
      for (const [outcome, n] of [["started_late", s.startedLate], ["skipped", s.skippedOverBudget]] as const) {
        if (n > heldSeen[outcome]) this.inc({ outcome }, n - heldSeen[outcome]);
        heldSeen[outcome] = n;
      }
    },
  });
  let droppedSeen = 0;
  new Counter({
    name: "hangar_log_entries_dropped_total",
    help: "Invocation log entries dropped because the log writer fell behind (or the write failed).",
    registers: [registry],
    collect() {
      const dropped = sources.logStats?.().dropped ?? droppedSeen;
      if (dropped > droppedSeen) this.inc(dropped - droppedSeen);
      droppedSeen = dropped;
    },
  });
  let writtenSeen = 0;
  new Counter({
    name: "hangar_log_entries_written_total",
    help: "Invocation log entries written to the database.",
    registers: [registry],
    collect() {
      const written = sources.logStats?.().written ?? writtenSeen;
      if (written > writtenSeen) this.inc(written - writtenSeen);
      writtenSeen = written;
    },
  });
  new Gauge({
    name: "hangar_log_entries_buffered",
    help: "Invocation log entries waiting to be written.",
    registers: [registry],
    collect() {
      this.set(sources.logStats?.().buffered ?? 0);
    },
  });
  new Gauge({
    name: "hangar_db_pool_connections",
    help: "Database pool connections by state (total, idle) and callers waiting for one.",
    labelNames: ["state"] as const,
    registers: [registry],
    collect() {
      const s = sources.db?.poolStats?.();
      if (!s) return;
      this.set({ state: "total" }, s.total);
      this.set({ state: "idle" }, s.idle);
      this.set({ state: "waiting" }, s.waiting);
    },
  });

  return {
    registry,
    recorder: {
      record(rec) {
        try {
          // An unknown name comes from the caller's URL: keep it out of the labels, or anyone could mint series.
          const fn = rec.status === "NOT_FOUND" && rec.versionId === null ? "(unknown)" : rec.functionName;
          invocations.inc({ function: fn, trigger: rec.trigger, status: rec.status });
          duration.observe({ function: fn, trigger: rec.trigger }, rec.durationMs / 1000);
        } catch {
          // Metrics must never fail an invocation.
        }
      },
    },
    setSources(s) {
      Object.assign(sources, s);
    },
  };
}
