import type { Sql } from "../db/index.ts";
import { UserError } from "../errors.ts";

/** One invocation as `hangar logs` shows it. */
export interface LogEntry {
  id: string;
  /** Follow cursor position (commit order). */
  seq: string;
  startedAt: string;
  functionName: string;
  versionId: string | null;
  trigger: string;
  status: string;
  httpStatus: number;
  durationMs: number;
  cpuMs: number;
  memoryBytes: number;
  /** HTTP response body bytes (a streamed one to its end); null for other triggers and Hangar's error bodies. */
  responseBytes: number | null;
  /** The body was streamed: duration runs to its last byte. */
  streamed: boolean;
  requestId: string;
  /** The client's own x-request-id, when it sent one. */
  correlationId: string | null;
  nodeId: string;
  error: { message: string; stack: string | null } | null;
  logs: { level: string; message: string; time: string }[];
}

export interface LogQuery {
  name?: string;
  /** "10m", "2h", "1d", "30s" or an ISO time. */
  since?: string;
  /** A cursor from a previous answer: only invocations written after it, in write order. */
  after?: string;
  limit?: number;
  status?: string;
}

export interface LogQueryResult {
  invocations: LogEntry[];
  /** Pass back as `after` to get what is written next. */
  cursor: string;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parse `--since`: a duration back from `now` ("10m") or an absolute time. */
export function parseSince(since: string, now = new Date()): Date {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(since.trim());
  if (m) return new Date(now.getTime() - Number(m[1]) * UNITS[m[2]]);
  const t = /^\d{4}-\d{2}-\d{2}/.test(since) ? Date.parse(since) : NaN;
  if (Number.isNaN(t)) throw new UserError(`since must be a duration like 10m, 2h, 1d or an ISO time, got "${since}"`, "USAGE", 400);
  return new Date(t);
}

/** Validate the JSON arguments of `logs.query`. */
export function parseLogQuery(args: Record<string, unknown>): LogQuery {
  const q: LogQuery = {};
  const str = (k: string) => {
    const v = args[k];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string") throw new UserError(`${k} must be a string`, "USAGE", 400);
    return v;
  };
  q.name = str("name");
  q.since = str("since");
  q.after = str("after");
  q.status = str("status");
  if (q.after !== undefined && !/^\d{1,19}$/.test(q.after)) throw new UserError(`after must be a cursor from a previous answer, got "${q.after}"`, "USAGE", 400);
  if (args.limit !== undefined && args.limit !== null) {
    const n = Number(args.limit);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new UserError(`limit must be an integer from 1 to 10000, got ${String(args.limit)}`, "USAGE", 400);
    q.limit = n;
  }
  return q;
}

interface Row {
  id: string; seq: string; started_at: Date; function_name: string; version_id: string | null; trigger: string; status: string;
  http_status: number; duration_ms: number; cpu_ms: number; memory_bytes: string; response_bytes: string | null; streamed: boolean; request_id: string; correlation_id: string | null; node_id: string;
  error_message: string | null; error_stack: string | null; logs: LogEntry["logs"] | null;
}

const COLUMNS = `id, seq, started_at, function_name, version_id, trigger, status, http_status, duration_ms, cpu_ms, memory_bytes,
  response_bytes, streamed, request_id, correlation_id, node_id, error_message, error_stack, logs`;

/**
 * Invocations with their console lines, oldest first. Without `after`: the
 * newest `limit` matching ones (since `since`), and a cursor at the head of
 * the log. With `after`: the next ones written after the cursor.
 */
export async function queryLogs(sql: Sql, q: LogQuery): Promise<LogQueryResult> {
  const limit = q.limit ?? (q.after ? 1000 : 100);
  const since = q.since ? parseSince(q.since) : null;
  const filters = `($1::text is null or function_name = $1) and ($2::timestamptz is null or started_at >= $2) and ($3::text is null or status = $3)`;
  if (q.after !== undefined) {
    const top = await head(sql, q.after);
    const { rows } = await sql.query<Row>(
      `select ${COLUMNS} from hangar.invocations where seq > $4::int8 and seq <= $6::int8 and ${filters} order by seq limit $5`,
      [q.name ?? null, since, q.status ?? null, q.after, limit, top],
    );
    // Rows skipped by the filters still move the cursor, so they are not scanned again.
    return { invocations: rows.map(entry), cursor: rows.length === limit ? String(rows[rows.length - 1].seq) : top };
  }
  // The head first: everything at or below it is committed (see sql/0005_logs.sql), so following from it loses nothing.
  const cursor = await head(sql, "0");
  const { rows } = await sql.query<Row>(
    `select ${COLUMNS} from hangar.invocations where seq <= $4::int8 and ${filters} order by started_at desc, seq desc limit $5`,
    [q.name ?? null, since, q.status ?? null, cursor, limit],
  );
  return { invocations: rows.reverse().map(entry), cursor };
}

async function head(sql: Sql, floor: string): Promise<string> {
  const { rows: [r] } = await sql.query<{ seq: string | null }>("select max(seq)::text as seq from hangar.invocations", []);
  return r.seq !== null && BigInt(r.seq) > BigInt(floor) ? r.seq : floor;
}

function entry(r: Row): LogEntry {
  return {
    id: r.id,
    seq: String(r.seq),
    startedAt: r.started_at.toISOString(),
    functionName: r.function_name,
    versionId: r.version_id === null ? null : String(r.version_id),
    trigger: r.trigger,
    status: r.status,
    httpStatus: r.http_status,
    durationMs: r.duration_ms,
    cpuMs: r.cpu_ms,
    memoryBytes: Number(r.memory_bytes),
    responseBytes: r.response_bytes === null ? null : Number(r.response_bytes),
    streamed: r.streamed,
    requestId: r.request_id,
    correlationId: r.correlation_id,
    nodeId: r.node_id,
    error: r.error_message === null ? null : { message: r.error_message, stack: r.error_stack },
    logs: r.logs ?? [],
  };
}
