// The event queue's SQL: each operation one statement, all times from the database clock.
import type { Sql } from "../db/index.ts";

export type EventStatus = "pending" | "running" | "done" | "dead";
export const EVENT_STATUSES: readonly EventStatus[] = ["pending", "running", "done", "dead"];

/** A claimed event, as the dispatcher needs it. */
export interface ClaimedEvent {
  id: string;
  function_name: string;
  schema_name: string;
  table_name: string;
  op: "insert" | "update" | "delete";
  old: Record<string, unknown> | null;
  new: Record<string, unknown> | null;
  /** Including this claim: 1 on first delivery. */
  attempts: number;
  /** Earlier attempts that failed on the database, not the handler. */
  infra_failures: number;
}

/**
 * Claimable: pending and due, or running with an expired lease (its instance
 * died), and the oldest unfinished event of its row for this function.
 * $1 function name, $2 the "schema.table" names it subscribes to.
 */
const CLAIMABLE = `
  e.function_name = $1
  and e.status in ('pending', 'running')
  and (e.schema_name || '.' || e.table_name) = any($2::text[])
  and ((e.status = 'pending' and e.run_after <= now()) or (e.status = 'running' and e.lease_until < now()))
  and not exists (
    select 1 from hangar.events p
     where p.function_name = e.function_name and p.row_key = e.row_key and p.id < e.id
       and p.status in ('pending', 'running'))`;

const RETURNING = "e.id::text as id, e.function_name, e.schema_name, e.table_name, e.op, e.old, e.new, e.attempts, e.infra_failures";

export interface ClaimOptions {
  functionName: string;
  tables: string[];
  limit: number;
  leaseMs: number;
  nodeId: string;
}

/** Claim up to `limit` events under a lease, in one statement (its own short transaction). */
export async function claimEvents(sql: Sql, o: ClaimOptions): Promise<ClaimedEvent[]> {
  const { rows } = await sql.query<ClaimedEvent & Record<string, unknown>>(
    `with c as (
       select e.id from hangar.events e where ${CLAIMABLE}
        order by e.id limit $3 for update of e skip locked)
     update hangar.events e
        set status = 'running', attempts = e.attempts + 1, locked_by = $5,
            lease_until = now() + $4::int8 * interval '1 millisecond'
       from c where e.id = c.id
     returning ${RETURNING}`,
    [o.functionName, o.tables, o.limit, o.leaseMs, o.nodeId],
  );
  return rows.sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
}

export interface SyncOptions extends ClaimOptions {
  /** Events this node handled: marked done in the same statement (if its claim still holds them). */
  finished: Pick<ClaimedEvent, "id" | "attempts">[];
  /** The first `startNow` claimed events get `leaseMs`; the rest wait in a local queue first, so get `queuedLeaseMs`. */
  startNow: number;
  queuedLeaseMs: number;
}

/**
 * One round trip for a lane of at-least-once events: mark the handled ones
 * done and claim up to `limit` more (`limit` 0: only complete). Both under
 * one snapshot, so a finished event's successor on its row becomes
 * claimable only on the next call.
 */
export async function completeAndClaim(sql: Sql, o: SyncOptions): Promise<{ claimed: ClaimedEvent[]; completed: number }> {
  const { rows } = await sql.query<(ClaimedEvent & { completed: number }) & Record<string, unknown>>(
    `with fin as (
       update hangar.events e set status = 'done', finished_at = now(), lease_until = null
         from unnest($6::int8[], $7::int4[]) as f(id, attempts)
        where e.id = f.id and e.status = 'running' and e.locked_by = $5 and e.attempts = f.attempts
       returning e.id),
     c as (
       select e.id from hangar.events e where ${CLAIMABLE}
        order by e.id limit $3 for update of e skip locked),
     r as (select c.id, row_number() over (order by c.id) as rn from c),
     cl as (
       update hangar.events e
          set status = 'running', attempts = e.attempts + 1, locked_by = $5,
              lease_until = now() + (case when r.rn <= $8 then $4::int8 else $9::int8 end) * interval '1 millisecond'
         from r where e.id = r.id
       returning ${RETURNING})
     select (select count(*) from fin)::int as completed, cl.* from (values (1)) v left join cl on true`,
    [o.functionName, o.tables, o.limit, o.leaseMs, o.nodeId, o.finished.map((f) => f.id), o.finished.map((f) => f.attempts), o.startNow, o.queuedLeaseMs],
  );
  const completed = rows[0]?.completed ?? 0;
  const claimed = rows.filter((r) => r.id !== null).map(({ completed: _, ...ev }) => ev as ClaimedEvent);
  return { claimed: claimed.sort((a, b) => Number(BigInt(a.id) - BigInt(b.id))), completed };
}

/** Give back claimed events that never started (closing, or no longer this node's to run): pending again, the attempt not spent. */
export async function releaseClaimed(sql: Sql, events: Pick<ClaimedEvent, "id" | "attempts">[], nodeId: string): Promise<number> {
  if (!events.length) return 0;
  const { rowCount } = await sql.query(
    `update hangar.events e
        set status = 'pending', attempts = e.attempts - 1, lease_until = null, locked_by = null
       from unnest($1::int8[], $2::int4[]) as f(id, attempts)
      where e.id = f.id and e.status = 'running' and e.locked_by = $3 and e.attempts = f.attempts`,
    [events.map((e) => e.id), events.map((e) => e.attempts), nodeId],
  );
  return rowCount ?? 0;
}

/** How many events are claimable right now, up to `limit` (no locks taken). */
export async function countClaimable(sql: Sql, functionName: string, tables: string[], limit: number): Promise<number> {
  const { rows } = await sql.query<{ n: number }>(
    `select count(*)::int as n from (select 1 from hangar.events e where ${CLAIMABLE} limit $3) x`,
    [functionName, tables, limit],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Exactly-once: lock one claimable event inside the caller's open
 * transaction. Nothing commits until the caller does; other instances skip
 * the locked row and, through the row-head check, its row's later events.
 */
export async function claimInTransaction(tx: Sql, o: Omit<ClaimOptions, "limit">): Promise<ClaimedEvent | null> {
  const { rows } = await tx.query<ClaimedEvent & Record<string, unknown>>(
    `with c as (
       select e.id from hangar.events e where ${CLAIMABLE}
        order by e.id limit 1 for update of e skip locked)
     update hangar.events e
        set status = 'running', attempts = e.attempts + 1, locked_by = $4,
            lease_until = now() + $3::int8 * interval '1 millisecond'
       from c where e.id = c.id
     returning ${RETURNING}`,
    [o.functionName, o.tables, o.leaseMs, o.nodeId],
  );
  return rows[0] ?? null;
}

/** Mark a claimed event done, if this claim still holds it (a lost lease means someone else now does). */
export async function completeEvent(sql: Sql, ev: ClaimedEvent, nodeId: string): Promise<boolean> {
  const { rowCount } = await sql.query(
    `update hangar.events set status = 'done', finished_at = now(), lease_until = null
      where id = $1 and status = 'running' and locked_by = $2 and attempts = $3`,
    [ev.id, nodeId, ev.attempts],
  );
  return rowCount === 1;
}

export interface FailOptions {
  error: string;
  maxAttempts: number;
  /** Delay before the next attempt. */
  retryInMs: number;
}

/** After a failed at-least-once attempt: retry later, or dead-letter at the limit. Returns the new status. */
export async function failClaimed(sql: Sql, ev: ClaimedEvent, nodeId: string, o: FailOptions): Promise<EventStatus | null> {
  const { rows } = await sql.query<{ status: EventStatus }>(
    `update hangar.events
        set status = case when attempts >= $4 then 'dead' else 'pending' end,
            finished_at = case when attempts >= $4 then now() end,
            run_after = now() + $5::int8 * interval '1 millisecond',
            last_error = $6, lease_until = null, locked_by = null
      where id = $1 and status = 'running' and locked_by = $2 and attempts = $3
      returning status`,
    [ev.id, nodeId, ev.attempts, o.maxAttempts, Math.round(o.retryInMs), o.error.slice(0, 8000)],
  );
  return rows[0]?.status ?? null;
}

/**
 * After an exactly-once attempt rolled back (the claim with it): count the
 * attempt in a transaction of its own. A no-op when another instance
 * finished the event meanwhile.
 */
export async function failRolledBack(sql: Sql, id: string, o: FailOptions): Promise<EventStatus | null> {
  const { rows } = await sql.query<{ status: EventStatus }>(
    `update hangar.events
        set attempts = attempts + 1,
            status = case when attempts + 1 >= $2 then 'dead' else 'pending' end,
            finished_at = case when attempts + 1 >= $2 then now() end,
            run_after = now() + $3::int8 * interval '1 millisecond',
            last_error = $4, lease_until = null, locked_by = null
      where id = $1 and status in ('pending', 'running')
      returning status`,
    [id, o.maxAttempts, Math.round(o.retryInMs), o.error.slice(0, 8000)],
  );
  return rows[0]?.status ?? null;
}

/**
 * After an attempt failed because the database failed (not the handler):
 * back to pending without spending an attempt, never dead. Works whether or
 * not the claim still stands (an exactly-once claim rolled back with it).
 */
export async function failInfrastructure(sql: Sql, ev: Pick<ClaimedEvent, "id" | "attempts">, nodeId: string, o: { error: string; retryInMs: number; rolledBack: boolean }): Promise<boolean> {
  const { rowCount } = await sql.query(
    o.rolledBack
      ? `update hangar.events
            set infra_failures = infra_failures + 1, run_after = now() + $2::int8 * interval '1 millisecond', last_error = $3
          where id = $1 and status = 'pending'`
      : `update hangar.events
            set status = 'pending', attempts = greatest(0, attempts - 1), infra_failures = infra_failures + 1,
                run_after = now() + $2::int8 * interval '1 millisecond', last_error = $3, lease_until = null, locked_by = null
          where id = $1 and status = 'running' and locked_by = $4 and attempts = $5`,
    o.rolledBack
      ? [ev.id, Math.round(o.retryInMs), o.error.slice(0, 8000)]
      : [ev.id, Math.round(o.retryInMs), o.error.slice(0, 8000), nodeId, ev.attempts],
  );
  return rowCount === 1;
}

/** Delete done events finished longer ago than `olderThanMs`, a batch at a time; returns how many. */
export async function pruneDone(sql: Sql, olderThanMs: number, batch = 1000): Promise<number> {
  const { rowCount } = await sql.query(
    `delete from hangar.events where id in (
       select id from hangar.events
        where status = 'done' and finished_at < now() - $1::int8 * interval '1 millisecond'
        order by id limit $2)`,
    [Math.round(olderThanMs), batch],
  );
  return rowCount ?? 0;
}

/** Exponential backoff with jitter: base * 2^(attempt-1), capped, then scaled by 0.5..1. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.5 + random() / 2));
}
