// Every night at 04:30 Berlin time (whatever the season), delete sessions not
// seen for SESSION_TTL_DAYS (default 30) and record what was done.
// GET /functions/v1/cleanup lists the latest reports.
import { sql, type Env, type ScheduledEvent } from "hangar";

export const config = {
  schedule: "30 4 * * *",
  timezone: "Europe/Berlin",
  overlap: "skip",    // never two cleanups at once
  catchUp: "latest",  // after downtime, one cleanup covers every missed night
};

const BATCH = 5000;

export default {
  async scheduled(event: ScheduledEvent, env: Env) {
    const ttlDays = Number(env.SESSION_TTL_DAYS ?? "30");
    // Relative to the occurrence, not to "now": a late catch-up prunes the same rows the on-time run would have.
    const cutoff = new Date(event.scheduledTime - ttlDays * 86_400_000);
    let pruned = 0;
    // Small batches keep each statement (and its locks) short.
    for (;;) {
      const gone = await sql`delete from sessions where id in (
        select id from sessions where last_seen_at < ${cutoff} limit ${BATCH}) returning id`;
      pruned += gone.length;
      if (gone.length < BATCH) break;
    }
    const [{ kept }] = await sql<{ kept: number }>`select count(*)::int as kept from sessions`;
    await sql`insert into cleanup_reports (scheduled_at, cutoff, pruned, kept)
      values (${new Date(event.scheduledTime)}, ${cutoff}, ${pruned}, ${kept}) on conflict (scheduled_at) do nothing`;
    console.log(`cleanup for ${new Date(event.scheduledTime).toISOString()}: pruned ${pruned} sessions last seen before ${cutoff.toISOString()}, ${kept} kept`);
  },

  async fetch(): Promise<Response> {
    const reports = await sql`select scheduled_at, cutoff, pruned, kept from cleanup_reports order by scheduled_at desc limit 10`;
    return Response.json({ reports });
  },
};
