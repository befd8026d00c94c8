// The cron ledger's statements: one function per operation on hangar.cron_runs / hangar.cron_state.
import { randomUUID } from "node:crypto";
import type { Sql } from "../db/index.ts";
import { lockKey } from "../db/lock-key.ts";

/** The advisory key serialising claims of one schedule (64-bit; hashtext collides). */
export const cronLockKey = (name: string) => lockKey(`hangar:cron:${name}`);

/** Transaction-level try-lock: false when another instance is claiming this schedule right now. */
export async function tryLock(tx: Sql, name: string): Promise<boolean> {
  const { rows } = await tx.query<{ ok: boolean }>("select pg_try_advisory_xact_lock($1::int8) as ok", [cronLockKey(name)]);
  return rows[0].ok;
}

export interface CronState {
  schedule: string;
  timezone: string;
  cursor: Date;
  /** The fleet's current alive stretch (sql/0009_cron_budget.sql), or null before any scheduler marked it. */
  alive: { from: Date; to: Date } | null;
}

export async function readState(tx: Sql, name: string): Promise<CronState | null> {
  const { rows } = await tx.query<{ schedule: string; timezone: string; last_scheduled_at: Date; alive_from: Date | null; alive_to: Date | null }>(
    `select s.schedule, s.timezone, s.last_scheduled_at, f.alive_from, f.alive_to
     from hangar.cron_state s left join hangar.cron_fleet f on f.id where s.function_name = $1`,
    [name],
  );
  const r = rows[0];
  if (!r) return null;
  return { schedule: r.schedule, timezone: r.timezone, cursor: r.last_scheduled_at, alive: r.alive_from && r.alive_to ? { from: r.alive_from, to: r.alive_to } : null };
}

/** First sight of a schedule, or a changed one: it starts from `now`, never from history. */
export async function resetState(tx: Sql, name: string, schedule: string, timezone: string, now: Date): Promise<Date> {
  const { rows } = await tx.query<{ last_scheduled_at: Date }>(
    `insert into hangar.cron_state (function_name, schedule, timezone, last_scheduled_at) values ($1, $2, $3, $4)
     on conflict (function_name) do update set schedule = excluded.schedule, timezone = excluded.timezone,
       last_scheduled_at = greatest(hangar.cron_state.last_scheduled_at, excluded.last_scheduled_at), updated_at = now()
     returning last_scheduled_at`,
    [name, schedule, timezone, now],
  );
  return rows[0].last_scheduled_at;
}

/** The cursor only moves forward. */
export async function advanceCursor(tx: Sql, name: string, to: Date): Promise<void> {
  await tx.query(
    "update hangar.cron_state set last_scheduled_at = greatest(last_scheduled_at, $2), updated_at = now() where function_name = $1",
    [name, to],
  );
}

export interface ActiveRun {
  run_id: string;
  node_id: string;
  scheduled_at: Date;
}

/** A queued or running run of `name` whose node is still heartbeating. */
export async function findActive(tx: Sql, name: string, now: Date, deadAfterMs: number): Promise<ActiveRun | null> {
  const { rows } = await tx.query<ActiveRun>(
    `select run_id, node_id, scheduled_at from hangar.cron_runs
     where function_name = $1 and status in ('queued', 'running') and heartbeat_at >= $2::timestamptz - $3 * interval '1 millisecond'
     order by scheduled_at limit 1`,
    [name, now, deadAfterMs],
  );
  return rows[0] ?? null;
}

export interface ClaimInput {
  name: string;
  scheduledAt: Date;
  nodeId: string;
  now: Date;
  catchUp: boolean;
  versionId: string | null;
  /** Why it starts late (held back by the budget), or null. */
  reason?: string | null;
}

/** Claim an occurrence to run: the row's creator runs it; a conflict means someone else has. Returns the run id or null. */
export async function claimRun(tx: Sql, c: ClaimInput): Promise<string | null> {
  const { rows } = await tx.query<{ run_id: string }>(
    `insert into hangar.cron_runs (function_name, scheduled_at, run_id, status, node_id, catch_up, version_id, claimed_at, heartbeat_at, reason)
     values ($1, $2, $3, 'queued', $4, $5, $6, $7, $7, $8)
     on conflict do nothing returning run_id`,
    [c.name, c.scheduledAt, randomUUID(), c.nodeId, c.catchUp, c.versionId, c.now, c.reason ?? null],
  );
  return rows[0]?.run_id ?? null;
}

/** Record an occurrence that will not run (skipped, missed), unless someone already recorded it. */
export async function recordNotRun(tx: Sql, c: Omit<ClaimInput, "versionId" | "reason">, status: "skipped" | "missed", reason: string): Promise<boolean> {
  const { rowCount } = await tx.query(
    `insert into hangar.cron_runs (function_name, scheduled_at, run_id, status, reason, node_id, catch_up, claimed_at, finished_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $8)
     on conflict do nothing`,
    [c.name, c.scheduledAt, randomUUID(), status, reason, c.nodeId, c.catchUp, c.now],
  );
  return rowCount === 1;
}

/** queued -> running. False when the run is no longer ours to start (another instance took it over). */
export async function startRun(db: Sql, runId: string, now: Date, nodeId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    "update hangar.cron_runs set status = 'running', started_at = $2, heartbeat_at = $2 where run_id = $1 and status = 'queued' and node_id = $3",
    [runId, now, nodeId],
  );
  return rowCount === 1;
}

export interface Finish {
  status: "succeeded" | "failed" | "missed" | "died";
  now: Date;
  error?: string | null;
  reason?: string | null;
  requestId?: string | null;
  durationMs?: number | null;
}

/** Record how this node's run ended; false when it is no longer ours (another instance took it over). */
export async function finishRun(db: Sql, runId: string, f: Finish, nodeId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `update hangar.cron_runs set status = $2, finished_at = $3, error = $4, reason = coalesce($5, reason),
       request_id = coalesce($6, request_id), duration_ms = $7
     where run_id = $1 and status in ('queued', 'running') and node_id = $8`,
    [runId, f.status, f.now, f.error ?? null, f.reason ?? null, f.requestId ?? null, f.durationMs ?? null, nodeId],
  );
  return rowCount === 1;
}

/**
 * This node is alive: touch its unfinished runs. A run locked by an open
 * exactly-once transaction is skipped (its lock already proves its owner
 * alive, and waiting for it would stall the heartbeat).
 */
export async function heartbeat(db: Sql, runIds: string[], now: Date): Promise<void> {
  if (!runIds.length) return;
  await db.query(
    `update hangar.cron_runs set heartbeat_at = $2 where run_id in (
       select run_id from hangar.cron_runs where run_id = any($1::uuid[]) and status in ('queued', 'running') for update skip locked)`,
    [runIds, now],
  );
}

/** Give runs back (shutdown): another instance's next sweep takes them over at once. */
export async function handOver(db: Sql, runIds: string[], nodeId: string): Promise<void> {
  if (!runIds.length) return;
  await db.query(
    `update hangar.cron_runs set heartbeat_at = '-infinity', reason = 'handed over by node ' || node_id || ' at shutdown'
     where run_id = any($1::uuid[]) and status in ('queued', 'running') and node_id = $2`,
    [runIds, nodeId],
  );
}

export interface DiedRun {
  function_name: string;
  scheduled_at: Date;
  run_id: string;
  node_id: string;
  catch_up: boolean;
  attempt: number;
  status: "queued" | "died";
  reason: string;
}

/**
 * Runs whose node stopped heartbeating: taken over by this node (queued
 * under its name, attempt + 1) to run again, at least once per occurrence;
 * marked died only at `maxAttempts`. Rows locked by a live exactly-once
 * transaction are left alone. Returns both kinds; the caller runs the queued.
 */
export async function sweepDead(db: Sql, now: Date, deadAfterMs: number, nodeId: string, maxAttempts: number, mine: string[] = []): Promise<DiedRun[]> {
  const { rows } = await db.query<DiedRun>(
    `with d as (
       select function_name, scheduled_at, node_id as old_node, heartbeat_at as old_beat from hangar.cron_runs
        where status in ('queued', 'running') and heartbeat_at < $1::timestamptz - $2 * interval '1 millisecond'
          and run_id <> all($5::uuid[])
        for update skip locked)
     update hangar.cron_runs r
     set status = case when r.attempt >= $4 then 'died' else 'queued' end,
       finished_at = case when r.attempt >= $4 then $1::timestamptz end,
       attempt = case when r.attempt >= $4 then r.attempt else r.attempt + 1 end,
       node_id = case when r.attempt >= $4 then r.node_id else $3 end,
       heartbeat_at = case when r.attempt >= $4 then r.heartbeat_at else $1::timestamptz end,
       started_at = case when r.attempt >= $4 then r.started_at end,
       reason = case when d.old_beat = '-infinity' then coalesce(r.reason, 'handed over') else 'no heartbeat from node ' || d.old_node || ' since ' || to_char(d.old_beat at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') end
         || case when r.attempt >= $4 then ' (attempt ' || r.attempt || ' of ' || $4 || ': not run again)' else '; run again by node ' || $3 end
     from d where r.function_name = d.function_name and r.scheduled_at = d.scheduled_at
     returning r.function_name, r.scheduled_at, r.run_id, d.old_node as node_id, r.catch_up, r.attempt, r.status, r.reason`,
    [now, deadAfterMs, nodeId, maxAttempts, mine],
  );
  return rows;
}

/** An infrastructure failure: the run stays ours and queued, to be tried again (attempt + 1). */
export async function retryLater(db: Sql, runId: string, nodeId: string, error: string): Promise<number | null> {
  const { rows } = await db.query<{ attempt: number }>(
    `update hangar.cron_runs set status = 'queued', attempt = attempt + 1, error = $3
     where run_id = $1 and status in ('queued', 'running') and node_id = $2 returning attempt`,
    [runId, nodeId, error.slice(0, 8000)],
  );
  return rows[0]?.attempt ?? null;
}
