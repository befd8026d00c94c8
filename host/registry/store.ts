import type { FunctionConfig } from "../build/index.ts";
import type { Db, Sql } from "../db/index.ts";
import { lockKey } from "../db/lock-key.ts";
import { checkRoutes } from "./routes.ts";
import { UserError } from "../errors.ts";
import type { ActiveFunction, DeployInput, DeployResult } from "./types.ts";

export interface ActivateOptions {
  /** dev: a watched table that does not exist yet is a warning, not a failed deploy. */
  missingTables: "error" | "skip";
  /** HANGAR_FUNCTION_ROLES: the roles `config.role` may name (default `hangar_guest`). */
  functionRoles?: readonly string[];
}

/** Runs inside the deploy/rollback transaction to reconcile side effects (table triggers); returns warnings. */
export type ActivateHook = (tx: Sql, name: string, config: FunctionConfig, opts: ActivateOptions) => Promise<string[]>;

const STRICT: ActivateOptions = { missingTables: "error" };

const ACTIVE_SQL = `
  select f.name, v.id::text as version_id, v.version, v.hash, v.config
  from hangar.functions f join hangar.versions v on v.id = f.active_version`;

interface ActiveRow {
  name: string;
  version_id: string;
  version: number;
  hash: string;
  config: FunctionConfig;
}

const toActive = (r: ActiveRow): ActiveFunction => ({ name: r.name, versionId: r.version_id, version: r.version, hash: r.hash, config: r.config });

/** Every function's active version. */
export async function loadActive(db: Sql): Promise<ActiveFunction[]> {
  const { rows } = await db.query<ActiveRow>(`${ACTIVE_SQL} order by f.name`);
  return rows.map(toActive);
}

/** The bundle and source map of one version. */
export async function loadBundle(db: Sql, versionId: string): Promise<{ code: string; map: string | null }> {
  const { rows } = await db.query<{ bundle: string; source_map: string | null }>(
    "select bundle, source_map from hangar.versions where id = $1",
    [versionId],
  );
  if (!rows[0]) throw new UserError(`version ${versionId} does not exist`, "NOT_FOUND", 404);
  return { code: rows[0].bundle, map: rows[0].source_map };
}

const SWITCH_SQL = `
  with switched as (update hangar.functions set active_version = $2, updated_at = now() where name = $1),
       recorded as (insert into hangar.deployments (function_name, version_id, action, actor) values ($1, $2, $3, $4)),
       bumped as (update hangar.registry_state set generation = generation + 1)
  select pg_catalog.pg_notify('hangar_registry', $1)`;

async function activate(
  tx: Sql, name: string, versionId: string, action: "deploy" | "rollback", actor: string, config: FunctionConfig, hook?: ActivateHook, opts = STRICT,
): Promise<string[]> {
  await checkRoutes(tx, name, config);
  const warnings = (await hook?.(tx, name, config, opts)) ?? [];
  // The switch, its record, the generation and the NOTIFY (sent at commit: every instance reloads; the
  // generation poll catches a missed one) in one statement: one round trip rather than four.
  await tx.query(SWITCH_SQL, [name, versionId, action, actor]);
  return warnings;
}

/** Deploys at once whose transaction (a host-pool session) waits for their bundle's evaluation. */
const MAX_OVERLAPPED = 2;
let overlapped = 0;

/**
 * Store a new immutable version and make it active, atomically. Identical
 * content is a no-op. A config still being evaluated is awaited inside the
 * transaction, after the bundle is written; on PGlite (whose one session
 * would be held meanwhile), or past MAX_OVERLAPPED such deploys, before the
 * transaction begins.
 */
export async function deployVersion(db: Db, input: DeployInput, hook?: ActivateHook, opts = STRICT): Promise<DeployResult> {
  let pending = input.config instanceof Promise ? input.config : null;
  pending?.catch(() => {}); // awaited below; until then its failure is not unhandled
  if (pending && (db.kind === "pglite" || overlapped >= MAX_OVERLAPPED)) {
    input = { ...input, config: await pending };
    pending = null;
  }
  if (pending) overlapped++;
  try {
    return await store(db, input, pending !== null, hook, opts);
  } finally {
    if (pending) overlapped--;
  }
}

/**
 * `value` awaited in the transaction of `tx` without the server ending it: a
 * session idle in a transaction past idle_in_transaction_session_timeout is
 * closed by Postgres, and an evaluation can outlast a short one (a large
 * bundle on a busy machine), so the session is touched at a third of it.
 */
async function holding<T>(db: Db, tx: Sql, value: T | Promise<T>): Promise<T> {
  if (!(value instanceof Promise)) return value;
  const idleMs = (db as { settings?: { idleInTxTimeoutMs?: number } }).settings?.idleInTxTimeoutMs;
  if (!idleMs) return value;
  let settled = false;
  const done = value.then(() => {}, () => {}).finally(() => (settled = true));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    while (!settled) {
      await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, Math.max(50, idleMs / 3))))]);
      clearTimeout(timer);
      if (!settled) await tx.query("select 1");
    }
  } finally {
    clearTimeout(timer);
  }
  return value;
}

async function store(db: Db, input: DeployInput, pending: boolean, hook?: ActivateHook, opts = STRICT): Promise<DeployResult> {
  return db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock($1::int8)", [lockKey(`hangar:deploy:${input.name}`)]);
    await tx.query("insert into hangar.functions (name) values ($1) on conflict do nothing", [input.name]);
    const current = await tx.query<ActiveRow>(`${ACTIVE_SQL} where f.name = $1`, [input.name]);
    const cur = current.rows[0];
    if (cur && cur.hash === input.hash) {
      await holding(db, tx, input.config); // identical content is still evaluated: its env may have changed
      return { name: input.name, version: cur.version, versionId: cur.version_id, hash: cur.hash, unchanged: true };
    }
    const { rows } = await tx.query<{ id: string; version: number }>(
      `insert into hangar.versions (function_name, version, hash, bundle, source_map, config, deployed_by)
       select $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6 from hangar.versions where function_name = $1
       returning id::text, version`,
      [input.name, input.hash, input.code, input.map, pending ? "null" : JSON.stringify(input.config), input.actor],
    );
    const config = await holding(db, tx, input.config);
    // an unchanged bundle and map keep their stored (compressed) values: only the config is written
    if (pending) await tx.query("update hangar.versions set config = $2 where id = $1", [rows[0].id, JSON.stringify(config)]);
    const warnings = await activate(tx, input.name, rows[0].id, "deploy", input.actor, config, hook, opts);
    return { name: input.name, version: rows[0].version, versionId: rows[0].id, hash: input.hash, unchanged: false, warnings };
  });
}

/** Switch back to the previously active version, or to `to`. */
export async function rollbackVersion(db: Db, name: string, to: number | null, actor: string, hook?: ActivateHook, opts = STRICT): Promise<DeployResult> {
  return db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock($1::int8)", [lockKey(`hangar:deploy:${name}`)]);
    const current = (await tx.query<ActiveRow>(`${ACTIVE_SQL} where f.name = $1`, [name])).rows[0];
    if (!current) throw new UserError(`function "${name}" is not deployed`, "NOT_FOUND", 404);
    let target: { id: string; version: number; hash: string; config: FunctionConfig } | undefined;
    if (to !== null) {
      target = (await tx.query<{ id: string; version: number; hash: string; config: FunctionConfig }>(
        "select id::text, version, hash, config from hangar.versions where function_name = $1 and version = $2",
        [name, to],
      )).rows[0];
      if (!target) throw new UserError(`function "${name}" has no version ${to}`, "NOT_FOUND", 404);
    } else {
      // The version that was active before the current one took over.
      target = (await tx.query<{ id: string; version: number; hash: string; config: FunctionConfig }>(
        `select v.id::text, v.version, v.hash, v.config from hangar.deployments d join hangar.versions v on v.id = d.version_id
         where d.function_name = $1 and d.version_id <> $2 order by d.id desc limit 1`,
        [name, current.version_id],
      )).rows[0];
      if (!target) throw new UserError(`function "${name}" has no earlier version to roll back to`, "NOT_FOUND", 404);
    }
    if (target.id === current.version_id) {
      return { name, version: current.version, versionId: current.version_id, hash: current.hash, unchanged: true };
    }
    const warnings = await activate(tx, name, target.id, "rollback", actor, target.config, hook, opts);
    return { name, version: target.version, versionId: target.id, hash: target.hash, unchanged: false, warnings };
  });
}

/** Registry generation: bumped by every switch. */
export async function registryGeneration(db: Sql): Promise<string> {
  const { rows } = await db.query<{ generation: string }>("select generation from hangar.registry_state");
  return rows[0]?.generation ?? "0";
}
