// Telling a database (infrastructure) failure from a statement's own failure.

const INFRA_CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN",
  "57P01", // admin_shutdown (pg_terminate_backend, fast shutdown)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, shutting down)
  "53300", // too_many_connections
  "53400", // configuration_limit_exceeded
  "25P03", // idle_in_transaction_session_timeout
  "HANGAR_POOL_TIMEOUT",
  "HANGAR_DB_UNAVAILABLE",
]);

const INFRA_MESSAGE =
  /Connection terminated|connection error|not queryable|Query read timeout|timeout exceeded when trying to connect|Cannot use a pool after calling end|terminating connection|the database system is (starting up|shutting down|in recovery)|database unavailable|DB_UNAVAILABLE|SQL_SESSION_CAP|sessions? cap|server closed the connection|ECONNREFUSED|ECONNRESET/i;

/** True when `err` says the database link failed (or was refused, or timed out), not the work itself. */
export function isInfrastructureError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown } | null;
  if (!e) return false;
  const code = typeof e.code === "string" ? e.code : "";
  if (code.startsWith("08") || INFRA_CODES.has(code)) return true;
  const msg = typeof e.message === "string" ? e.message : typeof err === "string" ? err : "";
  if (INFRA_MESSAGE.test(msg)) return true;
  return e.cause !== undefined && e.cause !== err ? isInfrastructureError(e.cause) : false;
}

/** True when the session itself is unusable afterwards (drop it, never reuse it). */
export function isBrokenSession(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  if (code.startsWith("08") || ["57P01", "57P02", "57P03", "25P03", "ECONNRESET", "EPIPE", "ETIMEDOUT"].includes(code)) return true;
  const msg = typeof e?.message === "string" ? e.message : "";
  return /Connection terminated|connection error|not queryable|Query read timeout/i.test(msg);
}

/** An error that carries a code, for failures Hangar itself declares. */
export class DbUnavailableError extends Error {
  readonly code = "HANGAR_DB_UNAVAILABLE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DbUnavailableError";
  }
}
