// A nightly job (cron): at 03:00 UTC, record how many rows the app's tables
// hold, prune reports older than 90 days, and log the report.
// GET /functions/v1/nightly shows the last week of reports.
import { sql, type ScheduledEvent } from "hangar";

export const config = {
  schedule: "0 3 * * *",
  timezone: "UTC",
  overlap: "skip",    // a slow night never runs twice at once
  catchUp: "latest",  // after downtime, run once for the night that was missed
};

const KEEP_DAYS = 90;

export default {
  async scheduled(event: ScheduledEvent) {
    const night = new Date(event.scheduledTime);
    await sql`create table if not exists nightly_reports (
      scheduled_at timestamptz primary key, tables int not null, live_rows bigint not null,
      pruned int not null, created_at timestamptz not null default now())`;
    const [stats] = await sql<{ tables: number; live_rows: string }>`
      select count(*)::int as tables, coalesce(sum(n_live_tup), 0)::int8 as live_rows
      from pg_stat_user_tables where schemaname = 'public'`;
    const pruned = await sql`delete from nightly_reports
      where scheduled_at < ${night}::timestamptz - make_interval(days => ${KEEP_DAYS}) returning scheduled_at`;
    // Keyed by the occurrence: the report for a night is written once.
    await sql`insert into nightly_reports (scheduled_at, tables, live_rows, pruned)
      values (${night}, ${stats.tables}, ${stats.live_rows}, ${pruned.length}) on conflict (scheduled_at) do nothing`;
    console.log(`nightly ${night.toISOString()}: ${stats.tables} tables, ~${stats.live_rows} live rows; pruned ${pruned.length} reports older than ${KEEP_DAYS} days`);
  },

  async fetch(): Promise<Response> {
    try {
      const reports = await sql`select scheduled_at, tables, live_rows, pruned from nightly_reports order by scheduled_at desc limit 7`;
      return Response.json({ reports });
    } catch (err) {
      // Before the first night there is no table yet.
      if ((err as { code?: string }).code === "42P01") return Response.json({ reports: [] });
      throw err;
    }
  },
};
