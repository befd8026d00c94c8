// Read-only queries the dashboard needs and no admin operation answers. Everything
// comes from the database, so any instance of a fleet shows the whole fleet.
import type { Db, Sql } from "../db/index.ts";

export interface FunctionStats {
  invocations: number;
  errors: number;
  p50: number | null;
  p99: number | null;
}

const isError = "(status <> 'ok' or http_status >= 500)";

/** Invocations, errors and latency of every function over the last `minutes`. */
export async function functionStats(sql: Sql, minutes = 60): Promise<Map<string, FunctionStats>> {
  const { rows } = await sql.query<{ function_name: string; n: number; errors: number; p50: number | null; p99: number | null }>(
    `select function_name, count(*)::int as n, (count(*) filter (where ${isError}))::int as errors,
            percentile_cont(0.5) within group (order by duration_ms) as p50,
            percentile_cont(0.99) within group (order by duration_ms) as p99
     from hangar.invocations where started_at > now() - make_interval(mins => $1) group by function_name`,
    [minutes],
  );
  return new Map(rows.map((r) => [r.function_name, { invocations: r.n, errors: r.errors, p50: r.p50, p99: r.p99 }]));
}

export interface Bucket {
  function: string;
  at: Date;
  requests: number;
  errors: number;
  p50: number;
  p99: number;
}

/** Per function, per time bucket, over the last `minutes`: what the charts draw. */
export async function chartBuckets(sql: Sql, minutes: number, bucketSeconds: number, fn: string | null): Promise<{ now: Date; buckets: Bucket[] }> {
  const { rows } = await sql.query<{ function_name: string; at: Date; n: number; errors: number; p50: number; p99: number; now: Date }>(
    `select function_name, to_timestamp(floor(extract(epoch from started_at) / $2) * $2) as at, count(*)::int as n,
            (count(*) filter (where ${isError}))::int as errors,
            percentile_cont(0.5) within group (order by duration_ms) as p50,
            percentile_cont(0.99) within group (order by duration_ms) as p99, now() as now
     from hangar.invocations
     where started_at > now() - make_interval(mins => $1) and ($3::text is null or function_name = $3)
     group by 1, 2 order by 1, 2`,
    [minutes, bucketSeconds, fn],
  );
  const now = rows[0]?.now ?? (await sql.query<{ now: Date }>("select now() as now", [])).rows[0].now;
  return { now, buckets: rows.map((r) => ({ function: r.function_name, at: r.at, requests: r.n, errors: r.errors, p50: r.p50, p99: r.p99 })) };
}

/** Table-event backlog (pending + running) and dead letters per function. */
export async function eventCountsByFunction(sql: Sql): Promise<Map<string, { backlog: number; dead: number }>> {
  const { rows } = await sql.query<{ function_name: string; backlog: number; dead: number }>(
    `select function_name, (count(*) filter (where status in ('pending', 'running')))::int as backlog,
            (count(*) filter (where status = 'dead'))::int as dead
     from hangar.events where status in ('pending', 'running', 'dead') group by function_name order by function_name`,
    [],
  );
  return new Map(rows.map((r) => [r.function_name, { backlog: r.backlog, dead: r.dead }]));
}

export interface EventDetail {
  id: string; function: string; table: string; op: string; status: string; attempts: number; rowKey: string | null;
  old: unknown; new: unknown; runAfter: Date; lastError: string | null; lockedBy: string | null; createdAt: Date; finishedAt: Date | null;
}

/** One event with its payload. */
export async function eventDetail(sql: Sql, id: string): Promise<EventDetail | null> {
  if (!/^[1-9][0-9]{0,18}$/.test(id)) return null;
  const { rows: [r] } = await sql.query<{
    id: string; function_name: string; schema_name: string; table_name: string; op: string; status: string; attempts: number; row_key: string | null;
    old: unknown; new: unknown; run_after: Date; last_error: string | null; locked_by: string | null; created_at: Date; finished_at: Date | null;
  }>(
    `select id::text, function_name, schema_name, table_name, op, status, attempts, row_key, old, new, run_after, last_error, locked_by, created_at, finished_at
     from hangar.events where id = $1::int8`,
    [id],
  );
  if (!r) return null;
  return {
    id: r.id, function: r.function_name, table: `${r.schema_name}.${r.table_name}`, op: r.op, status: r.status, attempts: r.attempts, rowKey: r.row_key,
    old: r.old, new: r.new, runAfter: r.run_after, lastError: r.last_error, lockedBy: r.locked_by, createdAt: r.created_at, finishedAt: r.finished_at,
  };
}

export interface Deployment {
  id: string;
  action: string;
  version: number;
  actor: string;
  at: Date;
}

/** A function's deploys and rollbacks, newest first. */
export async function deployments(sql: Sql, name: string, limit = 50): Promise<Deployment[]> {
  const { rows } = await sql.query<{ id: string; action: string; version: number; actor: string; at: Date }>(
    `select d.id::text, d.action, v.version, d.actor, d.at from hangar.deployments d join hangar.versions v on v.id = d.version_id
     where d.function_name = $1 order by d.id desc limit $2`,
    [name, limit],
  );
  return rows;
}

export interface InvocationRow {
  id: string; seq: string; startedAt: Date; functionName: string; version: number | null; trigger: string; status: string; httpStatus: number;
  durationMs: number; cpuMs: number; memoryBytes: number; responseBytes: number | null; streamed: boolean; requestId: string; nodeId: string;
  error: { message: string; stack: string | null } | null; logs: { level: string; message: string; time: string }[];
}

/** One invocation by id (a UUIDv7, so its time narrows the partitions scanned). */
export async function invocation(sql: Sql, id: string): Promise<InvocationRow | null> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
  const { rows: [r] } = await sql.query<{
    id: string; seq: string; started_at: Date; function_name: string; version: number | null; trigger: string; status: string; http_status: number;
    duration_ms: number; cpu_ms: number; memory_bytes: string; response_bytes: string | null; streamed: boolean; request_id: string; node_id: string; error_message: string | null; error_stack: string | null;
    logs: InvocationRow["logs"] | null;
  }>(
    `select i.id::text, i.seq::text, i.started_at, i.function_name, v.version, i.trigger, i.status, i.http_status, i.duration_ms, i.cpu_ms,
            i.memory_bytes::text, i.response_bytes::text, i.streamed, i.request_id, i.node_id, i.error_message, i.error_stack, i.logs
     from hangar.invocations i left join hangar.versions v on v.id = i.version_id where i.id = $1::uuid limit 1`,
    [id],
  );
  if (!r) return null;
  return {
    id: r.id, seq: r.seq, startedAt: r.started_at, functionName: r.function_name, version: r.version, trigger: r.trigger, status: r.status,
    httpStatus: r.http_status, durationMs: r.duration_ms, cpuMs: r.cpu_ms, memoryBytes: Number(r.memory_bytes),
    responseBytes: r.response_bytes === null ? null : Number(r.response_bytes), streamed: r.streamed, requestId: r.request_id,
    nodeId: r.node_id, error: r.error_message === null ? null : { message: r.error_message, stack: r.error_stack }, logs: r.logs ?? [],
  };
}

export interface FleetNode {
  nodeId: string;
  lastSeen: Date;
  /** What the sighting comes from. */
  seenBy: string[];
  connections: number;
}

/**
 * Instances of the fleet as the database sees them: sessions connected now
 * (application_name "hangar:<node>", real Postgres only) and the nodes that
 * wrote invocations, cron runs or NOTIFY leases in the last day.
 */
export async function fleet(db: Db): Promise<FleetNode[]> {
  const nodes = new Map<string, FleetNode>();
  const see = (id: string, at: Date, by: string, connections = 0) => {
    const n = nodes.get(id) ?? { nodeId: id, lastSeen: at, seenBy: [], connections: 0 };
    if (at > n.lastSeen) n.lastSeen = at;
    if (!n.seenBy.includes(by)) n.seenBy.push(by);
    n.connections += connections;
    nodes.set(id, n);
  };
  if (db.kind === "postgres") {
    const { rows } = await db.query<{ node: string; n: number; at: Date }>(
      `select substr(application_name, 8) as node, count(*)::int as n, now() as at from pg_stat_activity
       where application_name like 'hangar:%' and datname = current_database() group by 1`,
      [],
    );
    for (const r of rows) see(r.node, r.at, "connected", r.n);
  }
  const { rows } = await db.query<{ node_id: string; at: Date; by: string }>(
    `select node_id, max(started_at) as at, 'invocations' as by from hangar.invocations where started_at > now() - interval '1 day' group by node_id
     union all select node_id, max(coalesce(finished_at, started_at, scheduled_at)), 'cron' from hangar.cron_runs where scheduled_at > now() - interval '1 day' group by node_id
     union all select node_id, max(lease_until), 'notify lease' from hangar.notify_leases group by node_id`,
    [],
  );
  for (const r of rows) if (r.node_id && r.at) see(r.node_id, r.at, r.by);
  return [...nodes.values()].sort((a, b) => b.lastSeen.getTime() - a.lastSeen.getTime());
}

/** Time of a trivial round trip to the database, in ms. */
export async function roundTrip(sql: Sql): Promise<{ ms: number; now: Date; server: string }> {
  const t = performance.now();
  const { rows: [r] } = await sql.query<{ now: Date; v: string }>("select now() as now, current_setting('server_version') as v", []);
  return { ms: performance.now() - t, now: r.now, server: r.v };
}
