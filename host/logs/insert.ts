import { lockKey } from "../db/lock-key.ts";
import type { Db } from "../db/index.ts";
import type { ConsoleLine, InvocationRecord } from "./types.ts";

/** Channel notified after each batch lands, so followers on any instance wake up. */
export const LOGS_CHANNEL = "hangar_logs";

/** Per-invocation caps: a chatty function must not turn one row into megabytes. */
export const MAX_LINES = 1000;
export const MAX_LINE_CHARS = 16_384;

const WRITE_LOCK = lockKey("hangar:logs-write");

// Postgres text and jsonb hold neither NUL nor lone surrogates; one such line must not lose the whole batch.
const BAD = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const clean = (s: string) => s.replace(BAD, "\uFFFD");

function lines(logs: ConsoleLine[]): { level: string; message: string; time: string }[] | null {
  if (!logs.length) return null;
  const out = logs.slice(0, MAX_LINES).map((l) => ({
    level: l.level,
    message: clean(l.message.length > MAX_LINE_CHARS ? `${l.message.slice(0, MAX_LINE_CHARS)}… (${l.message.length - MAX_LINE_CHARS} more chars)` : l.message),
    time: l.time.toISOString(),
  }));
  if (logs.length > MAX_LINES) {
    out.push({ level: "warn", message: `… ${logs.length - MAX_LINES} more console lines not kept`, time: logs[logs.length - 1].time.toISOString() });
  }
  return out;
}

function row(r: InvocationRecord) {
  return {
    id: r.id,
    started_at: r.startedAt.toISOString(),
    function_name: clean(r.functionName),
    // Version ids are bigint identities; anything else (tests, fakes) is kept out of the column.
    version_id: r.versionId !== null && /^\d{1,18}$/.test(r.versionId) ? r.versionId : null,
    trigger: r.trigger,
    status: r.status,
    http_status: r.httpStatus,
    duration_ms: r.durationMs,
    cpu_ms: r.cpuMs,
    memory_bytes: Math.round(r.memoryBytes),
    error_message: r.error ? clean(r.error.message) : null,
    error_stack: r.error?.stack ? clean(r.error.stack) : null,
    request_id: r.requestId,
    node_id: r.nodeId,
    logs: lines(r.logs),
  };
}

/**
 * Insert one batch as one statement (the batch travels as a single JSON
 * parameter) and notify followers at commit. The transaction lock makes seq
 * order equal commit order across the fleet, which is what makes `after`
 * a lossless cursor.
 */
export async function insertBatch(db: Db, nodeId: string, batch: InvocationRecord[]): Promise<void> {
  const payload = JSON.stringify(batch.map(row));
  await db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock($1::int8)", [WRITE_LOCK]);
    await tx.query(
      `with ins as (
         insert into hangar.invocations (id, started_at, function_name, version_id, trigger, status, http_status, duration_ms,
           cpu_ms, memory_bytes, error_message, error_stack, request_id, node_id, logs)
         select id, started_at, function_name, version_id, trigger, status, http_status, duration_ms,
           cpu_ms, memory_bytes, error_message, error_stack, request_id, node_id, logs
         from json_to_recordset($1::json) as r(id uuid, started_at timestamptz, function_name text, version_id bigint, trigger text,
           status text, http_status int, duration_ms double precision, cpu_ms double precision, memory_bytes bigint,
           error_message text, error_stack text, request_id text, node_id text, logs jsonb)
         returning seq)
       select pg_notify($2, json_build_object('node', $3::text, 'count', count(*), 'seq', max(seq))::text) from ins`,
      [payload, LOGS_CHANNEL, nodeId],
    );
  });
}

/** The Postgres error for a row with no partition to go to. */
export function isNoPartition(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === "23514" && /no partition/i.test((err as Error).message);
}
