// The per-transaction context guest SQL runs in: timeouts, verified claims,
// and the role. Written by the host as SET LOCAL (host text, escaped
// literals), before the guest's first statement; the guest cannot change
// any of it afterwards (see README.md).
import pg from "pg";
import type { Sql } from "../../db/index.ts";
import type { Step } from "./wire.ts";

export interface SqlLimits {
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  idleInTxTimeoutMs: number;
  /** More rows than this is an error (ROW_LIMIT), never a silent truncation. */
  maxRows: number;
}

export const DEFAULT_SQL_LIMITS: SqlLimits = { statementTimeoutMs: 5_000, lockTimeoutMs: 2_000, idleInTxTimeoutMs: 10_000, maxRows: 10_000 };

/** The unprivileged role guest SQL runs as when the function configures none (sql/0004_vector.sql creates it). */
export const GUEST_ROLE = "hangar_guest";

export interface GuestContext {
  role: string;
  claims: Record<string, unknown> | null;
  limits: SqlLimits;
  /** PGlite is one session: an idle-in-transaction timeout there would end the whole embedded database. */
  idleTimeout: boolean;
}

const ms = (n: number) => `'${Math.max(0, Math.floor(n))}ms'`;

/** SET LOCAL statements entering the guest context; the role switch comes last, after everything the guest may not touch. */
export function enterSql(c: GuestContext): string {
  const parts = [
    `set local statement_timeout = ${ms(c.limits.statementTimeoutMs)}`,
    `set local lock_timeout = ${ms(c.limits.lockTimeoutMs)}`,
    c.idleTimeout ? `set local idle_in_transaction_session_timeout = ${ms(c.limits.idleInTxTimeoutMs)}` : "",
    `set local "request.jwt.claims" = ${pg.escapeLiteral(c.claims ? JSON.stringify(c.claims) : "")}`,
    // Temporary tables searched last, never before the real ones (Postgres searches pg_temp first unless it is named).
    `select pg_catalog.set_config('search_path', pg_catalog.current_setting('search_path') || ', pg_temp', true)`,
    `set local role ${pg.escapeIdentifier(c.role)}`,
  ];
  return parts.filter(Boolean).join("; ");
}

const msText = (n: number) => `${Math.max(0, Math.floor(n))}ms`;

// The same context as enterSql, as one prepared host statement with parameters
// (one Bind and Execute per guest statement instead of a simple query).
// set_config's privilege is checked once, as the host, before any of it runs;
// the role comes last. Session advisory locks a previous user got anyway
// (a grant made since the role check was cached) are released first.
const CTX = (idle: boolean) => `select pg_catalog.pg_advisory_unlock_all(),
  pg_catalog.set_config('statement_timeout', $1, true), pg_catalog.set_config('lock_timeout', $2, true),
  ${idle ? "pg_catalog.set_config('idle_in_transaction_session_timeout', $5, true)," : ""}
  pg_catalog.set_config('request.jwt.claims', $3, true),
  pg_catalog.set_config('search_path', pg_catalog.current_setting('search_path') || ', pg_temp', true),
  pg_catalog.set_config('role', $4, true)`;
const CTX_POSTGRES = CTX(true);
const CTX_PGLITE = CTX(false);

/** enterSql as a wire step (see wire.ts): run first in the guest statement's transaction. */
export function contextStep(c: GuestContext): Step {
  const values = [msText(c.limits.statementTimeoutMs), msText(c.limits.lockTimeoutMs), c.claims ? JSON.stringify(c.claims) : "", c.role];
  if (c.idleTimeout) return { name: "hangar_ctx", text: CTX_POSTGRES, values: [...values, msText(c.limits.idleInTxTimeoutMs)] };
  return { name: "hangar_ctx_lite", text: CTX_PGLITE, values };
}

/**
 * Run after a guest's statement in its own transaction, when its role is
 * session-safe (roles.ts): all it could leave on the session past the
 * transaction are temporary objects and sequence state (lastval). Neither
 * needs a privilege, so they run as the guest.
 */
export const RESET_STEPS: readonly Step[] = [
  { name: "hangar_discard_temp", text: "discard temp" },
  { name: "hangar_discard_seq", text: "discard sequences" },
];

/** What a caller's transaction had before a nested guest statement, to put back afterwards. */
export interface Saved {
  st: string;
  lt: string;
  it: string;
  claims: string | null;
  cu: string;
  su: string;
  sp: string;
}

export const SAVE_SQL = `select current_setting('statement_timeout') as st, current_setting('lock_timeout') as lt,
       current_setting('idle_in_transaction_session_timeout') as it,
       current_setting('request.jwt.claims', true) as claims, current_user::text as cu, session_user::text as su,
       current_setting('search_path') as sp`;

/** Read the settings `enterSql` overwrites. */
export async function saveContext(s: Sql): Promise<Saved> {
  const { rows } = await s.query<Saved>(SAVE_SQL, []);
  return rows[0];
}

/** restoreSql as wire steps (the values as parameters). */
export function restoreSteps(saved: Saved): Step[] {
  const steps: Step[] = [
    { name: "hangar_role_none", text: "set local role none" },
    {
      name: "hangar_restore",
      text: `select pg_catalog.set_config('statement_timeout', $1, true), pg_catalog.set_config('lock_timeout', $2, true),
        pg_catalog.set_config('idle_in_transaction_session_timeout', $3, true), pg_catalog.set_config('request.jwt.claims', $4, true),
        pg_catalog.set_config('search_path', $5, true)`,
      values: [saved.st, saved.lt, saved.it, saved.claims ?? "", saved.sp],
    },
  ];
  if (saved.cu !== saved.su) steps.push({ text: `set local role ${pg.escapeIdentifier(saved.cu)}` });
  return steps;
}

/** SET LOCAL statements restoring saved settings: as the host (set_config is not the guest's), the saved role last. */
export function restoreSql(saved: Saved): string {
  return [
    "set local role none",
    `set local statement_timeout = ${pg.escapeLiteral(saved.st)}`,
    `set local lock_timeout = ${pg.escapeLiteral(saved.lt)}`,
    `set local idle_in_transaction_session_timeout = ${pg.escapeLiteral(saved.it)}`,
    `set local "request.jwt.claims" = ${pg.escapeLiteral(saved.claims ?? "")}`,
    `select pg_catalog.set_config('search_path', ${pg.escapeLiteral(saved.sp)}, true)`,
    saved.cu === saved.su ? "" : `set local role ${pg.escapeIdentifier(saved.cu)}`,
  ]
    .filter(Boolean)
    .join("; ");
}

/**
 * What a guest may leave on a session past its transaction: temporary
 * tables (CREATE TEMP, SELECT INTO TEMP), session advisory locks, prepared
 * statements, cursors, settings. A pool session the guest used is reset
 * with DISCARD ALL before anyone else gets it. PGlite is one session that
 * also carries the host's LISTENs, which DISCARD ALL would drop: there the
 * same reset is spelled out without UNLISTEN.
 */
export function resetSql(kind: "postgres" | "pglite"): string {
  if (kind === "postgres") return "discard all";
  return "close all; select pg_catalog.pg_advisory_unlock_all(); discard temp; discard sequences; discard plans; deallocate all; reset all";
}

/**
 * Inside someone else's transaction (exactly-once) DISCARD ALL cannot run:
 * drop what the guest may have made there before the caller commits.
 */
export const RESET_IN_TX_SQL = "select pg_catalog.pg_advisory_unlock_all(); discard temp";
