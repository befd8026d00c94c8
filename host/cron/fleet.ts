// The row every scheduler shares (sql/0009_cron_budget.sql): the budget for starting runs, and when the fleet was alive.
import type { Sql } from "../db/index.ts";

/**
 * Take up to `want` whole tokens from a bucket that refills at `rate` per
 * second up to `rate` tokens (one second's worth). The row lock makes the
 * read and write one step across instances. Returns how many were granted.
 */
export async function takeTokens(db: Sql, want: number, rate: number, now: Date): Promise<number> {
  if (want <= 0) return 0;
  const { rows } = await db.query<{ granted: number }>(
    `with b as (
       select least($3::float8, tokens + $3::float8 * greatest(0, coalesce(extract(epoch from ($2::timestamptz - refilled_at))::float8, 1e9))) as avail
       from hangar.cron_fleet where id for update),
     g as (select avail, least($1::float8, floor(avail)) as granted from b)
     update hangar.cron_fleet set tokens = g.avail - g.granted, refilled_at = $2 from g where id
     returning g.granted::int as granted`,
    [want, now, rate],
  );
  return rows[0]?.granted ?? 0;
}

/** Give back tokens taken and not used (the schedule was claimed by another instance, or had nothing due). */
export async function returnTokens(db: Sql, n: number, rate: number): Promise<void> {
  if (n <= 0) return;
  await db.query("update hangar.cron_fleet set tokens = least($2::float8, tokens + $1) where id", [n, rate]);
}

/**
 * This scheduler is alive at `now`: extend the fleet's alive stretch, or
 * start a new one when nobody wrote for longer than `gapMs` (the fleet was
 * down) or the clock went back past its start (tests' clocks).
 */
export async function markAlive(db: Sql, now: Date, gapMs: number): Promise<void> {
  await db.query(
    `update hangar.cron_fleet set
       alive_from = case when alive_to is null or alive_to < $1::timestamptz - $2 * interval '1 millisecond' or $1 < alive_from then $1 else alive_from end,
       alive_to = case when alive_to is null or $1 < alive_from then $1 else greatest(alive_to, $1) end
     where id`,
    [now, gapMs],
  );
}
