import type { AdminOp } from "../admin/types.ts";
import { nextOccurrences } from "../build/index.ts";
import { UserError } from "../errors.ts";

export interface CronListItem {
  name: string;
  /** True for Hangar's own jobs (names starting with "_"). */
  internal: boolean;
  schedule: string;
  timezone: string;
  overlap: string | null;
  catchUp: string | null;
  version: number | null;
  /** ISO time of the next occurrence by the database clock, or null when it never fires again. */
  next: string | null;
  lastRun: { scheduledAt: string; status: string; finishedAt: string | null; error: string | null } | null;
}

export interface CronRun {
  runId: string;
  scheduledAt: string;
  status: string;
  node: string;
  catchUp: boolean;
  version: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
  reason: string | null;
  requestId: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** `cron.list`: every scheduled active function (and Hangar's own jobs seen by a scheduler) with its next occurrence and last run. */
const list: AdminOp = async ({ db }) => {
  const { rows: [{ now }] } = await db.query<{ now: Date }>("select now() as now");
  const { rows: fns } = await db.query<{ name: string; version: number; config: Record<string, unknown> }>(
    `select f.name, v.version, v.config from hangar.functions f join hangar.versions v on v.id = f.active_version
     where coalesce(v.config->>'schedule', '') <> '' order by f.name`,
  );
  const { rows: internal } = await db.query<{ function_name: string; schedule: string; timezone: string }>(
    "select function_name, schedule, timezone from hangar.cron_state where function_name like '\\_%' order by function_name",
  );
  const items: CronListItem[] = [
    ...fns.map((f) => ({
      name: f.name, internal: false, schedule: String(f.config.schedule), timezone: String(f.config.timezone ?? "UTC"),
      overlap: (f.config.overlap as string) ?? "skip", catchUp: (f.config.catchUp as string) ?? "latest", version: f.version,
    })),
    ...internal.map((s) => ({ name: s.function_name, internal: true, schedule: s.schedule, timezone: s.timezone, overlap: null, catchUp: null, version: null })),
  ].map((i) => ({ ...i, next: nextOf(i.schedule, i.timezone, now), lastRun: null }));

  const { rows: last } = await db.query<{ function_name: string; scheduled_at: Date; status: string; finished_at: Date | null; error: string | null }>(
    `select distinct on (function_name) function_name, scheduled_at, status, finished_at, error from hangar.cron_runs
     where function_name = any($1::text[]) order by function_name, scheduled_at desc`,
    [items.map((i) => i.name)],
  );
  const byName = new Map(last.map((r) => [r.function_name, r]));
  for (const i of items) {
    const r = byName.get(i.name);
    if (r) i.lastRun = { scheduledAt: r.scheduled_at.toISOString(), status: r.status, finishedAt: iso(r.finished_at), error: r.error };
  }
  return { now: now.toISOString(), schedules: items };
};

function nextOf(schedule: string, timezone: string, now: Date): string | null {
  try {
    return iso(nextOccurrences(schedule, timezone, now, 1)[0] ?? null);
  } catch {
    return null;
  }
}

/** `cron.runs`: the ledger of one schedule, newest occurrence first. Args: { name, limit = 20, status? }. */
const runs: AdminOp = async ({ db }, args) => {
  const name = args.name;
  if (typeof name !== "string" || name === "") throw new UserError("cron.runs needs a function name", "USAGE", 400);
  const limit = args.limit === undefined ? 20 : Number(args.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UserError(`limit must be an integer from 1 to 10000, got ${String(args.limit)}`, "USAGE", 400);
  const status = args.status === undefined ? null : String(args.status);
  const { rows } = await db.query<{
    run_id: string; scheduled_at: Date; status: string; node_id: string; catch_up: boolean; version: number | null;
    started_at: Date | null; finished_at: Date | null; duration_ms: number | null; error: string | null; reason: string | null; request_id: string | null;
  }>(
    `select r.run_id, r.scheduled_at, r.status, r.node_id, r.catch_up, v.version, r.started_at, r.finished_at, r.duration_ms, r.error, r.reason, r.request_id
     from hangar.cron_runs r left join hangar.versions v on v.id = r.version_id
     where r.function_name = $1 and ($3::text is null or r.status = $3)
     order by r.scheduled_at desc limit $2`,
    [name, limit, status],
  );
  if (!rows.length) {
    const { rowCount } = await db.query(
      "select 1 from hangar.functions where name = $1 union all select 1 from hangar.cron_state where function_name = $1",
      [name],
    );
    if (!rowCount) throw new UserError(`no function named "${name}"`, "NOT_FOUND", 404);
  }
  const out: CronRun[] = rows.map((r) => ({
    runId: r.run_id, scheduledAt: r.scheduled_at.toISOString(), status: r.status, node: r.node_id, catchUp: r.catch_up,
    version: r.version, startedAt: iso(r.started_at), finishedAt: iso(r.finished_at), durationMs: r.duration_ms,
    error: r.error, reason: r.reason, requestId: r.request_id,
  }));
  return { name, runs: out };
};

/** The cron admin operations, to merge into ADMIN_OPS. */
export const cronOps: Record<string, AdminOp> = { "cron.list": list, "cron.runs": runs };
