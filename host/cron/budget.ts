// The fleet's budget for starting cron runs: one token bucket row (sql/0009_cron_budget.sql) every instance takes from.
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
       from hangar.cron_budget where id for update),
     g as (select avail, least($1::float8, floor(avail)) as granted from b)
     update hangar.cron_budget set tokens = g.avail - g.granted, refilled_at = $2 from g where id
     returning g.granted::int as granted`,
    [want, now, rate],
  );
  return rows[0]?.granted ?? 0;
}

/** Give back tokens taken and not used (the schedule was claimed by another instance, or had nothing due). */
export async function returnTokens(db: Sql, n: number, rate: number): Promise<void> {
  if (n <= 0) return;
  await db.query("update hangar.cron_budget set tokens = least($2::float8, tokens + $1) where id", [n, rate]);
}
