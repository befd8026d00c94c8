import { randomUUID } from "node:crypto";
import { HostBindingError, type HostFunctions } from "../../../runtime/types.ts";
import type { Db, Sql } from "../../db/index.ts";
import { contextStep, DEFAULT_SQL_LIMITS, enterSql, GUEST_ROLE, RESET_IN_TX_SQL, RESET_STEPS, resetSql, restoreSql, restoreSteps, SAVE_SQL, saveContext, type GuestContext, type Saved, type SqlLimits } from "./context.ts";
import { isConnectionFailure, SqlError, toGuestError } from "./errors.ts";
import { checkStatement } from "./gate.ts";
import { holdSession, mutexFor, type HeldSession } from "./lanes.ts";
import { cachedRoleCheck, type RoleCheck } from "./roles.ts";
import { pgParams, plainRows } from "./values.ts";
import { forgetPrepared, isWireClient, lostPrepared, runSteps, type Step, type StepError, type StepResult, type WireClient } from "./wire.ts";

export interface SqlBindingOptions {
  db: Db;
  /** Exactly-once: run every guest statement on this session, inside the caller's open transaction. */
  session?: Sql;
  /** Database role the function runs as; default `hangar_guest`. */
  role?: string | null;
  /** Verified JWT claims, visible as current_setting('request.jwt.claims', true). */
  claims?: Record<string, unknown> | null;
  limits?: Partial<SqlLimits>;
  /** HANGAR_FUNCTION_ROLES: the roles a function may run as; omitted, only the role's attributes are checked. */
  allowedRoles?: readonly string[] | null;
}

export interface SqlBindings {
  /** "sql.query", "sql.begin", "sql.commit", "sql.rollback". */
  functions: HostFunctions;
  /**
   * The session vector (and other host work for this invocation) must use
   * instead of the pool, or null to use the pool: the exactly-once session,
   * or on PGlite the one session an open sql.begin holds.
   */
  sharedSession(): Sql | null;
  /** Roll back and release any transaction the guest left open; safe twice. */
  close(): Promise<void>;
}

interface Tx {
  id: string;
  sql: Sql;
  /** Set when the transaction is ours (BEGIN on a held pool session). */
  held?: HeldSession;
  /** Set when it is a savepoint inside someone else's transaction. */
  savepoint?: string;
  /** The role is session-safe (roles.ts): the session is reset with RESET_STEPS, not DISCARD ALL. */
  safe?: boolean;
  saved?: Saved;
}

/** Guest SQL host functions for one invocation. */
export function createSqlBindings(opts: SqlBindingOptions): SqlBindings {
  const { db } = opts;
  const ctx: GuestContext = {
    role: opts.role || GUEST_ROLE,
    claims: opts.claims ?? null,
    limits: { ...DEFAULT_SQL_LIMITS, ...opts.limits },
    idleTimeout: db.kind !== "pglite",
  };
  // Built on first use: the one-round-trip path never needs the text form.
  let enterText: string | null = null;
  const enter = () => (enterText ??= enterSql(ctx));
  const txs = new Map<string, Tx>();
  let closing: Promise<void> | null = null;
  let savepoints = 0;

  /** Refuse a role that is (or has become since deploy) privileged, before switching to it. */
  const checkRole = async (s: Sql): Promise<RoleCheck> => {
    const check = await cachedRoleCheck(db, s, ctx.role, opts.allowedRoles ?? null);
    if (check.problem) throw new SqlError(`function SQL refused: ${check.problem}; functions run as an ordinary role`, "42501");
    return check;
  };

  /**
   * Put a session the guest used back as the pool gave it (see resetSql).
   * A session that cannot be reset is reported broken so the pool drops it.
   * A session-safe role's session needs only RESET_STEPS (see roles.ts).
   */
  const resetSession = async (s: Sql, safe = false): Promise<void> => {
    try {
      if (safe && isWireClient(s)) await runSteps(s, RESET_STEPS);
      else {
        forgetPrepared(s);
        await s.query(resetSql(db.kind));
      }
    } catch (err) {
      throw new SessionResetError(err);
    }
  };
  let usedCallerSession = false;

  const alive = () => {
    if (closing) throw new HostBindingError("sql used after the invocation ended", "SQL_CLOSED");
  };

  const sharedSession = (): Sql | null => {
    if (opts.session) return opts.session;
    if (db.kind === "pglite") for (const tx of txs.values()) if (tx.held) return tx.sql;
    return null;
  };

  /** Refuse a statement the gate does not allow; returns its leading keyword(s). */
  function gate(text: string): string {
    const verdict = checkStatement(text);
    if (!verdict.ok) {
      throw new SqlError(`statement not allowed: "${verdict.leading}"`, "42501", {
        detail: "Functions may run SELECT, INSERT, UPDATE, DELETE, MERGE, WITH, VALUES, TABLE, EXPLAIN, TRUNCATE and CREATE/ALTER/DROP TABLE or INDEX (EXPLAIN only of those); use sql.begin for transactions; large-object functions (lo_*) and setseed are refused.",
      });
    }
    return verdict.leading;
  }

  const rowLimit = () => new SqlError(`query returned more than ${ctx.limits.maxRows} rows (the row limit); add a LIMIT or page through results`, "ROW_LIMIT");

  /**
   * The guest's statement as a wire step: extended protocol, rows read up to the cap only. Unnamed (parsed
   * every time) unless `cache`: prepared once per session, where a failure is retried (see `replanned`).
   */
  const guestStep = (text: string, params: unknown[], cache = false): Step => ({ text, values: pgParams(params), rows: { max: ctx.limits.maxRows }, cache });

  const rowsOf = (r: StepResult) => {
    if (r.over) throw rowLimit();
    return plainRows(r.rows, r.fields);
  };

  /** One guest statement: refused unless allowed, always the extended protocol, rows capped while reading. */
  async function statement(s: Sql, text: string, params: unknown[]) {
    gate(text);
    if (isWireClient(s)) return rowsOf((await runSteps(s, [guestStep(text, params)]))[0]);
    // Not a node-postgres session (no wire access): the cap is checked after reading.
    // queryMode "extended" even without parameters: the simple protocol would accept several statements.
    const query = { text, values: pgParams(params), queryMode: "extended" } as unknown as string;
    const res = await s.query(query);
    const rows = res.rows ?? [];
    if (rows.length > ctx.limits.maxRows) throw rowLimit();
    return plainRows(rows, (res as { fields?: { name: string; dataTypeID: number }[] }).fields);
  }

  /** A statement in a savepoint of someone else's transaction, leaving its settings as they were. */
  function nested(s: Sql, text: string, params: unknown[]) {
    if (s === opts.session) usedCallerSession = true;
    return mutexFor(s).run(async () => {
      await checkRole(s);
      if (isWireClient(s)) return nestedOnWire(s, text, params);
      const saved = await saveContext(s);
      const sp = `hangar_q${++savepoints}`;
      await s.query(`savepoint ${sp}; set local role none; ${enter()}`);
      let rows;
      try {
        rows = await statement(s, text, params);
      } catch (err) {
        await s.query(`rollback to savepoint ${sp}; release savepoint ${sp}`).catch(() => {});
        throw err;
      }
      await s.query(`release savepoint ${sp}; ${restoreSql(saved)}`);
      return rows;
    });
  }

  /**
   * nested() in two round trips: save the caller's settings, open the
   * savepoint and enter the context; then the statement, the release and
   * the caller's settings put back. A statement that may pass the row cap
   * after changing something (see oneTrip) waits for its row count before
   * the release, so over the cap it is rolled back to the savepoint.
   */
  async function nestedOnWire(s: WireClient, text: string, params: unknown[]) {
    const leading = gate(text);
    const sp = `hangar_q${++savepoints}`;
    const back = async () => {
      await s.query(`rollback to savepoint ${sp}; release savepoint ${sp}`).catch(() => {});
    };
    let saved: Saved;
    try {
      const r = await runSteps(s, [
        { name: "hangar_save", text: SAVE_SQL, rows: { max: 1 } },
        { text: `savepoint ${sp}` },
        { name: "hangar_role_none", text: "set local role none" },
        contextStep(ctx),
      ]);
      saved = r[0].rows[0] as unknown as Saved;
    } catch (err) {
      if (((err as StepError).step ?? 0) >= 2) await back();
      throw err;
    }
    const release: Step[] = [{ text: `release savepoint ${sp}` }, ...restoreSteps(saved)];
    if (oneTrip(leading, text)) {
      let r: StepResult[];
      try {
        r = await runSteps(s, [guestStep(text, params), ...release]);
      } catch (err) {
        // Past the statement the savepoint is gone: the caller's transaction is aborted and theirs to end.
        if ((err as StepError).step === 0) await back();
        throw err;
      }
      return rowsOf(r[0]);
    }
    let result: StepResult;
    try {
      result = (await runSteps(s, [guestStep(text, params)]))[0];
    } catch (err) {
      await back();
      throw err;
    }
    if (result.over) {
      await back();
      throw rowLimit();
    }
    await runSteps(s, release);
    return plainRows(result.rows, result.fields);
  }

  /** A statement in a transaction of its own on a pool session. */
  function own(text: string, params: unknown[]) {
    return db.withClient(async (s) => {
      const role = await checkRole(s);
      if (!isWireClient(s)) return ownByQueries(s, text, params);
      const leading = gate(text);
      if (role.sessionSafe && oneTrip(leading, text)) return replanned(() => ownOneTrip(s, text, params));
      return role.sessionSafe ? replanned(() => ownTwoTrips(s, text, params, true)) : ownTwoTrips(s, text, params, false);
    });
  }

  /**
   * Context, statement and reset in one round trip, one implicit
   * transaction: a failure anywhere rolls all of it back. The reset steps
   * are skipped then, so they run on their own after a failure.
   */
  async function ownOneTrip(s: WireClient, text: string, params: unknown[]) {
    let results: StepResult[];
    try {
      results = await runSteps(s, [contextStep(ctx), guestStep(text, params, true), ...RESET_STEPS]);
    } catch (err) {
      if (!isConnectionFailure(err)) await resetSession(s, true);
      throw err;
    }
    return rowsOf(results[1]);
  }

  /** BEGIN, context and statement, then COMMIT (ROLLBACK when over the row cap) and the reset. */
  async function ownTwoTrips(s: WireClient, text: string, params: unknown[], safe: boolean) {
    let result: StepResult;
    try {
      result = (await runSteps(s, [{ name: "hangar_begin", text: "begin" }, contextStep(ctx), guestStep(text, params, safe)]))[2];
    } catch (err) {
      if (isConnectionFailure(err)) throw err;
      await s.query("rollback").catch(() => {});
      await resetSession(s, safe);
      throw err;
    }
    const end: Step = result.over ? { name: "hangar_rollback", text: "rollback" } : { name: "hangar_commit", text: "commit" };
    try {
      await runSteps(s, safe ? [end, ...RESET_STEPS] : [end]);
    } catch (err) {
      if (isConnectionFailure(err)) throw err;
      await s.query("rollback").catch(() => {});
      await resetSession(s, safe);
      throw err;
    }
    if (!safe) await resetSession(s);
    return rowsOf(result);
  }

  /** A session without wire access: BEGIN + context, the statement, COMMIT, DISCARD ALL. */
  async function ownByQueries(s: Sql, text: string, params: unknown[]) {
    await s.query(`begin; ${enter()}`);
    let rows;
    try {
      rows = await statement(s, text, params);
      await s.query("commit");
    } catch (err) {
      if (isConnectionFailure(err)) throw err;
      await s.query("rollback").catch(() => {});
      await resetSession(s);
      throw err;
    }
    await resetSession(s);
    return rows;
  }

  function txFor(txId: unknown): Tx {
    const tx = typeof txId === "string" ? txs.get(txId) : undefined;
    if (!tx) throw new SqlError(`unknown or finished transaction ${JSON.stringify(txId)}`, "25000");
    return tx;
  }

  async function begin(): Promise<string> {
    const id = randomUUID();
    const shared = sharedSession();
    if (shared) {
      if (shared === opts.session) usedCallerSession = true;
      await mutexFor(shared).run(async () => {
        await checkRole(shared);
        const saved = await saveContext(shared);
        const savepoint = `hangar_tx${++savepoints}`;
        await shared.query(`savepoint ${savepoint}; set local role none; ${enter()}`);
        txs.set(id, { id, sql: shared, savepoint, saved });
      });
      return id;
    }
    const held = await holdSession(db);
    let safe = false;
    try {
      safe = (await checkRole(held.sql)).sessionSafe && isWireClient(held.sql);
      await held.sql.query(`begin; ${enter()}`);
    } catch (err) {
      await held.release(isConnectionFailure(err) ? (err as Error) : undefined);
      throw err;
    }
    txs.set(id, { id, sql: held.sql, held, safe });
    return id;
  }

  async function finish(tx: Tx, commit: boolean): Promise<void> {
    txs.delete(tx.id);
    if (tx.held) {
      // Savepoints nested on this session (PGlite) end with it.
      for (const t of [...txs.values()]) if (t.sql === tx.sql) txs.delete(t.id);
      let broken: Error | undefined;
      let reset = false;
      try {
        const s = tx.sql;
        let command: string | null | undefined;
        if (tx.safe && isWireClient(s)) {
          // The end and the reset in one round trip.
          const end: Step = commit ? { name: "hangar_commit", text: "commit" } : { name: "hangar_rollback", text: "rollback" };
          command = (await mutexFor(s).run(() => runSteps(s, [end, ...RESET_STEPS])))[0].command;
          reset = true;
        } else command = (await mutexFor(s).run(() => s.query(commit ? "commit" : "rollback")) as { command?: string }).command;
        if (commit && command === "ROLLBACK") {
          throw new SqlError("the transaction was aborted by an earlier error and has been rolled back", "25P02");
        }
      } catch (err) {
        if (isConnectionFailure(err)) broken = err as Error;
        throw err;
      } finally {
        if (!broken && !reset) await resetSession(tx.sql, tx.safe).catch((err: Error) => (broken = err));
        await tx.held.release(broken);
      }
      return;
    }
    const sp = tx.savepoint!;
    await mutexFor(tx.sql).run(async () => {
      if (!commit) return void (await tx.sql.query(`rollback to savepoint ${sp}; release savepoint ${sp}`));
      try {
        await tx.sql.query(`release savepoint ${sp}; ${restoreSql(tx.saved!)}`);
      } catch (err) {
        await tx.sql.query(`rollback to savepoint ${sp}; release savepoint ${sp}`).catch(() => {});
        if ((err as { code?: string }).code === "25P02") {
          throw new SqlError("the transaction was aborted by an earlier error and has been rolled back", "25P02");
        }
        throw err;
      }
    });
  }

  const guard =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      alive();
      try {
        return await fn(...args);
      } catch (err) {
        throw toGuestError(err);
      }
    };

  const functions: HostFunctions = {
    "sql.query": guard(async (args: unknown[]) => {
      const [text, params, txId] = args;
      if (typeof text !== "string" || !text.trim()) throw new SqlError("sql.query: text must be a non-empty string", "22023");
      if (params != null && !Array.isArray(params)) throw new SqlError("sql.query: params must be an array", "22023");
      const values = (params as unknown[] | null | undefined) ?? [];
      if (txId != null) {
        const tx = txFor(txId);
        return mutexFor(tx.sql).run(() => statement(tx.sql, text, values));
      }
      const shared = sharedSession();
      return shared ? nested(shared, text, values) : own(text, values);
    }),
    "sql.begin": guard(async () => begin()),
    "sql.commit": guard(async (args: unknown[]) => (await finish(txFor(args[0]), true), null)),
    "sql.rollback": guard(async (args: unknown[]) => (await finish(txFor(args[0]), false), null)),
  };

  return {
    functions,
    sharedSession,
    close() {
      closing ??= (async () => {
        // Savepoints first (innermost), then our own transactions.
        const open = [...txs.values()].sort((a, b) => Number(!!a.held) - Number(!!b.held));
        for (const tx of open) if (txs.has(tx.id)) await finish(tx, false).catch(() => {});
        // The caller's transaction (exactly-once) commits after us: drop what the guest left in it.
        const caller = opts.session;
        if (caller && usedCallerSession) await mutexFor(caller).run(() => caller.query(RESET_IN_TX_SQL)).catch(() => {});
      })();
      return closing;
    },
  };
}

/**
 * Whether a statement may commit in the round trip it runs in: its result
 * cannot pass the row cap after it has changed something. SELECT, VALUES,
 * TABLE and EXPLAIN produce rows as they are read and stop at the cap (the
 * effects of volatile functions on the rows produced up to there commit);
 * DML without RETURNING and DDL return no rows. DML with RETURNING and WITH
 * (which may hold data-modifying parts) wait for the row count before
 * committing, so a result over the cap is rolled back.
 */
function oneTrip(leading: string, text: string): boolean {
  const first = leading.split(" ")[0];
  if (first === "with") return false;
  if (first === "insert" || first === "update" || first === "delete" || first === "merge") return !/returning/i.test(text);
  return true;
}

/**
 * Run an autocommit statement that used prepared statements again, once,
 * when what the session held was not what it was thought to hold: the
 * guest's plan changed result type under it (DDL since it was prepared:
 * Postgres refuses with 0A000 rather than return other columns), or a named
 * statement is gone or already there (26000, 42P05: a DEALLOCATE made
 * elsewhere, a pooler in transaction mode between here and Postgres). It was
 * rolled back, and the names involved are parsed again on the next use
 * (wire.ts).
 */
async function replanned<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const stale = lostPrepared(err) || (e.code === "0A000" && /cached plan must not change result type/.test(e.message ?? ""));
    if (!stale) throw err;
    return run();
  }
}

/** A session a guest used could not be reset: code 08000 so the pool drops it instead of reusing it. */
class SessionResetError extends Error {
  readonly code = "08000";
  constructor(cause: unknown) {
    super(`could not reset a database session after guest use: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = "SessionResetError";
  }
}
