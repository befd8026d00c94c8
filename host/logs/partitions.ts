import { lockKey } from "../db/lock-key.ts";
import type { Db, Sql } from "../db/index.ts";

const PARENT = "hangar.invocations";
const NAME_RE = /^invocations_p(\d{4})(\d{2})(\d{2})$/;
const DAY_MS = 86_400_000;

/** The UTC day (midnight) a time falls in. */
export function dayOf(t: Date | number): Date {
  const ms = typeof t === "number" ? t : t.getTime();
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS);
}

/** `invocations_p20250131` for the day starting at `day`. */
export function partitionName(day: Date): string {
  return `invocations_p${day.toISOString().slice(0, 10).replaceAll("-", "")}`;
}

/** Create the day partitions holding `days` (UTC), if missing. Serialised across the fleet by a transaction lock. */
export async function ensurePartitions(db: Db, days: Date[]): Promise<string[]> {
  const wanted = [...new Set(days.map((d) => dayOf(d).getTime()))].map((ms) => new Date(ms));
  if (!wanted.length) return [];
  return db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock($1::int8)", [lockKey("hangar:logs-partitions")]);
    return createMissing(tx, wanted);
  });
}

async function createMissing(tx: Sql, days: Date[]): Promise<string[]> {
  const existing = new Set(await partitionNames(tx));
  const created: string[] = [];
  for (const day of days) {
    const name = partitionName(day);
    if (existing.has(name)) continue;
    const from = day.toISOString();
    const to = new Date(day.getTime() + DAY_MS).toISOString();
    // Identifiers are built from a date only; bounds are ISO literals.
    await tx.query(`create unlogged table if not exists hangar.${name} partition of ${PARENT} for values from ('${from}') to ('${to}')`, []);
    created.push(name);
  }
  return created;
}

/** Names of the current partitions of hangar.invocations. */
export async function partitionNames(sql: Sql): Promise<string[]> {
  const { rows } = await sql.query<{ name: string }>(
    `select c.relname as name from pg_catalog.pg_inherits i join pg_catalog.pg_class c on c.oid = i.inhrelid
     where i.inhparent = $1::regclass order by c.relname`,
    [PARENT],
  );
  return rows.map((r) => r.name);
}

export interface RotateOptions {
  retentionDays: number;
  /** Days ahead of today to create; default 2. */
  aheadDays?: number;
  /** "Now" for the rotation; default the database clock. */
  now?: Date;
}

export interface RotateResult {
  /** False when another instance held the rotation lock; nothing was done. */
  ran: boolean;
  created: string[];
  dropped: string[];
}

/**
 * Create today's and the next days' partitions and DROP whole partitions
 * that end before the retention window. Idempotent; when another instance is
 * rotating at the same moment this one does nothing.
 */
export async function rotateLogs(db: Db, opts: RotateOptions): Promise<RotateResult> {
  return db.transaction(async (tx) => {
    const { rows: [lock] } = await tx.query<{ ok: boolean }>("select pg_try_advisory_xact_lock($1::int8) as ok", [lockKey("hangar:logs-rotate")]);
    if (!lock.ok) return { ran: false, created: [], dropped: [] };
    // Creating and dropping partitions lock the parent; never queue behind a long reader for long.
    await tx.query("select set_config('lock_timeout', '5s', true)", []);
    await tx.query("select pg_advisory_xact_lock($1::int8)", [lockKey("hangar:logs-partitions")]);
    const now = opts.now ?? (await tx.query<{ now: Date }>("select now() as now", [])).rows[0].now;
    const today = dayOf(now);
    const ahead = opts.aheadDays ?? 2;
    const days = Array.from({ length: ahead + 1 }, (_, i) => new Date(today.getTime() + i * DAY_MS));
    const created = await createMissing(tx, days);
    // A partition is dropped once all of it is older than the retention window.
    const cutoff = today.getTime() - opts.retentionDays * DAY_MS;
    const dropped: string[] = [];
    for (const name of await partitionNames(tx)) {
      const m = NAME_RE.exec(name);
      if (!m) continue;
      const end = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + DAY_MS;
      if (end > cutoff) continue;
      await tx.query(`drop table hangar.${name}`, []);
      dropped.push(name);
    }
    return { ran: true, created, dropped };
  });
}
