import type { Sql } from "../db/index.ts";

export interface EventCounts {
  /** pending + running */
  backlog: number;
  dead: number;
}

/** Table-event backlog and dead letters (sql/0002_events.sql), through the events_by_status index. */
export async function eventCounts(sql: Sql): Promise<EventCounts> {
  const { rows } = await sql.query<{ status: string; n: string }>(
    "select status, count(*) as n from hangar.events where status in ('pending', 'running', 'dead') group by status",
    [],
  );
  const n = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
  return { backlog: n("pending") + n("running"), dead: n("dead") };
}

/**
 * Cron lag in seconds (sql/0003_cron.sql): over the last hour's occurrences,
 * the longest gap between when a run was due and when it started (or now, for
 * one claimed and still waiting). 0 when nothing ran.
 */
export async function cronLagSeconds(sql: Sql): Promise<number> {
  const { rows: [r] } = await sql.query<{ lag: number | null }>(
    `select extract(epoch from max(coalesce(started_at, now()) - scheduled_at))::float8 as lag
     from hangar.cron_runs
     where scheduled_at > now() - interval '1 hour' and status in ('queued', 'running', 'succeeded', 'failed', 'died')`,
    [],
  );
  return Math.max(0, r?.lag ?? 0);
}
