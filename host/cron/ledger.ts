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
}

export async function readState(tx: Sql, name: string): Promise<CronState | null> {
  const { rows } = await tx.query<{ schedule: string; timezone: string; last_scheduled_at: Date }>(
    "select schedule, timezone, last_scheduled_at from hangar.cron_state where function_name = $1",
    [name],
  );
  return rows[0] ? { schedule: rows[0].schedule, timezone: rows[0].timezone, cursor: rows[0].last_scheduled_at } : null;
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
}

/** Claim an occurrence to run: the row's creator runs it; a conflict means someone else has. Returns the run id or null. */
export async function claimRun(tx: Sql, c: ClaimInput): Promise<string | null> {
  const { rows } = await tx.query<{ run_id: string }>(
    `insert into hangar.cron_runs (function_name, scheduled_at, run_id, status, node_id, catch_up, version_id, claimed_at, heartbeat_at)
     values ($1, $2, $3, 'queued', $4, $5, $6, $7, $7)
     on conflict do nothing returning run_id`,
    [c.name, c.scheduledAt, randomUUID(), c.nodeId, c.catchUp, c.versionId, c.now],
  );
  return rows[0]?.run_id ?? null;
}

/** Record an occurrence that will not run (skipped, missed), unless someone already recorded it. */
export async function recordNotRun(tx: Sql, c: Omit<ClaimInput, "versionId">, status: "skipped" | "missed", reason: string): Promise<boolean> {
  const { rowCount } = await tx.query(
    `insert into hangar.cron_runs (function_name, scheduled_at, run_id, status, reason, node_id, catch_up, claimed_at, finished_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $8)
     on conflict do nothing`,
    [c.name, c.scheduledAt, randomUUID(), status, reason, c.nodeId, c.catchUp, c.now],
  );
  return rowCount === 1;
}

/** queued -> running. False when the run is no longer ours to start (a sweep marked it died meanwhile). */
export async function startRun(db: Sql, runId: string, now: Date): Promise<boolean> {
  const { rowCount } = await db.query(
    "update hangar.cron_runs set status = 'running', started_at = $2, heartbeat_at = $2 where run_id = $1 and status = 'queued'",
    [runId, now],
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

/** Record how a run ended; false when it was already marked died (this node was presumed dead). */
export async function finishRun(db: Sql, runId: string, f: Finish): Promise<boolean> {
  const { rowCount } = await db.query(
    `update hangar.cron_runs set status = $2, finished_at = $3, error = $4, reason = coalesce($5, reason),
       request_id = coalesce($6, request_id), duration_ms = $7
     where run_id = $1 and status in ('queued', 'running')`,
    [runId, f.status, f.now, f.error ?? null, f.reason ?? null, f.requestId ?? null, f.durationMs ?? null],
  );
  return rowCount === 1;
}

/** This node is alive: touch its unfinished runs. */
export async function heartbeat(db: Sql, runIds: string[], now: Date): Promise<void> {
  if (!runIds.length) return;
  await db.query("update hangar.cron_runs set heartbeat_at = $2 where run_id = any($1::uuid[]) and status in ('queued', 'running')", [runIds, now]);
}

export interface DiedRun {
  function_name: string;
  scheduled_at: Date;
  run_id: string;
  node_id: string;
}

/** Mark unfinished runs whose node stopped heartbeating as died; they are never run again. */
export async function sweepDead(db: Sql, now: Date, deadAfterMs: number): Promise<DiedRun[]> {
  const { rows } = await db.query<DiedRun>(
    `update hangar.cron_runs
     set status = 'died', finished_at = $1,
       reason = 'no heartbeat from node ' || node_id || ' since ' || to_char(heartbeat_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
     where status in ('queued', 'running') and heartbeat_at < $1::timestamptz - $2 * interval '1 millisecond'
     returning function_name, scheduled_at, run_id, node_id`,
    [now, deadAfterMs],
  );
  return rows;
}
