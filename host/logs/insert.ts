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

const LEVELS = new Set(["log", "info", "warn", "error", "debug", "trace"]);
const text = (v: unknown, max: number, dflt: string) => (typeof v === "string" && v ? clean(v.slice(0, max)) : dflt);
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);
const iso = (d: unknown, dflt: Date) => (d instanceof Date && Number.isFinite(d.getTime()) ? d : dflt).toISOString();

// Every value below may have crossed from a guest (outcome kinds, messages,
// console lines): each is checked here, so one bad record can never make the
// batch INSERT fail and take the other functions' records with it.
function lines(logs: ConsoleLine[], now: Date): { level: string; message: string; time: string }[] | null {
  if (!Array.isArray(logs) || !logs.length) return null;
  const out = logs.slice(0, MAX_LINES).map((l) => {
    const msg = typeof l?.message === "string" ? l.message : String(l?.message);
    return {
      level: typeof l?.level === "string" && LEVELS.has(l.level) ? l.level : "log",
      message: clean(msg.length > MAX_LINE_CHARS ? `${msg.slice(0, MAX_LINE_CHARS)}… (${msg.length - MAX_LINE_CHARS} more chars)` : msg),
      time: iso(l?.time, now),
    };
  });
  if (logs.length > MAX_LINES) {
    out.push({ level: "warn", message: `… ${logs.length - MAX_LINES} more console lines not kept`, time: iso(logs[logs.length - 1]?.time, now) });
  }
  return out;
}

/** Errors stored at most this long (message and stack each). */
export const MAX_ERROR_CHARS = 16_384;

function row(r: InvocationRecord) {
  const now = new Date();
  const http = Number.isInteger(r.httpStatus) && r.httpStatus >= 100 && r.httpStatus <= 999 ? r.httpStatus : 500;
  return {
    id: r.id,
    started_at: iso(r.startedAt, now),
    function_name: text(r.functionName, 256, "?"),
    // Version ids are bigint identities; anything else (tests, fakes) is kept out of the column.
    version_id: typeof r.versionId === "string" && /^\d{1,18}$/.test(r.versionId) ? r.versionId : null,
    trigger: text(r.trigger, 32, "unknown"),
    status: text(r.status, 64, "UNKNOWN"),
    http_status: http,
    duration_ms: num(r.durationMs),
    cpu_ms: num(r.cpuMs),
    memory_bytes: Math.min(Math.round(num(r.memoryBytes)), Number.MAX_SAFE_INTEGER),
    response_bytes: typeof r.responseBytes === "number" ? Math.min(Math.round(num(r.responseBytes)), Number.MAX_SAFE_INTEGER) : null,
    streamed: r.streamed === true,
    error_message: r.error ? text(typeof r.error.message === "string" ? r.error.message : String(r.error.message), MAX_ERROR_CHARS, "(no message)") : null,
    error_stack: r.error?.stack ? text(String(r.error.stack), MAX_ERROR_CHARS, "") || null : null,
    request_id: text(r.requestId, 128, "?"),
    correlation_id: r.correlationId ? text(r.correlationId, 128, "") || null : null,
    node_id: text(r.nodeId, 128, "?"),
    logs: lines(r.logs, now),
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
           cpu_ms, memory_bytes, response_bytes, streamed, error_message, error_stack, request_id, correlation_id, node_id, logs)
         select id, started_at, function_name, version_id, trigger, status, http_status, duration_ms,
           cpu_ms, memory_bytes, response_bytes, streamed, error_message, error_stack, request_id, correlation_id, node_id, logs
         from json_to_recordset($1::json) as r(id uuid, started_at timestamptz, function_name text, version_id bigint, trigger text,
           status text, http_status int, duration_ms double precision, cpu_ms double precision, memory_bytes bigint,
           response_bytes bigint, streamed boolean, error_message text, error_stack text, request_id text, correlation_id text,
           node_id text, logs jsonb)
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
