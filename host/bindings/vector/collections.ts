// The collection registry: hangar.vector_collections, one table per
// collection in schema hangar_vectors, created on first upsert under a
// transaction-level advisory lock so racing instances create it once.
//
// A collection belongs to a scope: the function that made it, or the shared
// namespace ("" in the registry) when the guest names it "shared:<name>".
// Its table is reached by guest roles only through the binding: each table
// has row-level security that shows rows only while the host has set
// `hangar.vector_table` to that table's name (SET LOCAL, written by the host;
// guests can neither SET nor call set_config), so a function's raw SQL sees
// no collection's rows, and the binding sets it only for the scope it serves.
import { createHash } from "node:crypto";
import pg from "pg";
import type { Db, Sql } from "../../db/index.ts";
import { lockKey } from "../../db/lock-key.ts";
import { VectorError } from "./errors.ts";
import { METRICS, type Metric } from "./metric.ts";

/** The registry's scope of the shared namespace. */
export const SHARED_SCOPE = "";

export interface Collection {
  /** The owning function's name, or SHARED_SCOPE. */
  scope: string;
  name: string;
  /** Table name in hangar_vectors. */
  table: string;
  dimension: number;
  metric: Metric;
}

/** Quoted table name. */
export const tableOf = (c: { table: string }) => `hangar_vectors.${pg.escapeIdentifier(c.table)}`;

/** A new collection's table name: distinct per (scope, name), within 63 bytes. */
export const tableNameFor = (scope: string, name: string) => `c_${createHash("sha256").update(`${scope}\u0000${name}`).digest("hex").slice(0, 32)}`;

// Collections are never dropped by the binding, so what was committed stays true.
const known = new WeakMap<Db, Map<string, Collection>>();
// (table, role) pairs known to be granted.
const granted = new WeakMap<Db, Set<string>>();

/** Caches live on the Db a per-invocation guest Db was made from, so they outlive the invocation. */
const rootOf = (db: Db): Db => db.root ?? db;

function cacheOf(db: Db): Map<string, Collection> {
  let m = known.get(rootOf(db));
  if (!m) known.set(rootOf(db), (m = new Map()));
  return m;
}

/** The collection if a committed transaction has seen it (no query). */
export const knownCollection = (db: Db, scope: string, name: string): Collection | undefined => cacheOf(db).get(keyOf(scope, name));

/** Whether `role` is known to have been granted the collection's table. */
export const knownGrant = (db: Db, c: Collection, role: string): boolean => granted.get(rootOf(db))?.has(`${c.table}\u0000${role}`) ?? false;

const keyOf = (scope: string, name: string) => `${scope}\u0000${name}`;

/** The HNSW index's name (derived from the table name, which may be too long to suffix). */
export const indexOf = (c: { table: string }) => `hnsw_${createHash("sha256").update(c.table).digest("hex").slice(0, 20)}`;

/** CREATE INDEX for a collection's HNSW index. */
export const createIndexSql = (c: Collection) =>
  `create index ${indexOf(c)} on ${tableOf(c)} using hnsw (embedding ${METRICS[c.metric].opclass})`;

/** The collection, or null when it does not exist. */
export async function findCollection(db: Db, s: Sql, scope: string, name: string): Promise<Collection | null> {
  const cached = cacheOf(db).get(keyOf(scope, name));
  if (cached) return cached;
  const { rows } = await s.query<{ table_name: string; dimension: number; metric: Metric }>(
    "select table_name, dimension, metric from hangar.vector_collections where scope = $1 and name = $2",
    [scope, name],
  );
  return rows[0] ? { scope, name, table: rows[0].table_name, dimension: rows[0].dimension, metric: rows[0].metric } : null;
}

/** Remember a collection (and its grant) once the transaction that saw it is known to be committed. */
export function remember(db: Db, c: Collection, role: string): void {
  cacheOf(db).set(keyOf(c.scope, c.name), c);
  let g = granted.get(rootOf(db));
  if (!g) granted.set(rootOf(db), (g = new Set()));
  g.add(`${c.table}\u0000${role}`);
}

/** Whether the host has set `hangar.vector_table` to this collection's table. */
const setFor = (c: { table: string }) => `pg_catalog.current_setting('hangar.vector_table', true) = ${pg.escapeLiteral(c.table)}`;

/**
 * The rows a guest role sees: all while the setting names this table, none
 * otherwise. Written as `tableoid = <this table's oid, or null>` rather than
 * as the bare setting test: RLS evaluates a Var-free qual at the table with
 * the default 0.5% selectivity, which makes the planner prefer a sequential
 * scan to the HNSW index; `tableoid` has one distinct value (selectivity 1).
 * See sql/0011_vector_policy_plan.sql.
 */
const rowPolicy = (c: { table: string }) => `tableoid = case when ${setFor(c)} then ${pg.escapeLiteral(tableOf(c))}::regclass::oid end`;

/** Create the collection unless it exists; `s` must be inside a transaction, acting as the host. */
export async function ensureCollection(db: Db, s: Sql, want: Omit<Collection, "table">): Promise<Collection> {
  const found = await findCollection(db, s, want.scope, want.name);
  if (found) return found;
  await s.query("select pg_advisory_xact_lock($1::int8)", [lockKey(`hangar:vector:${want.scope}:${want.name}`)]);
  const again = await findCollection(db, s, want.scope, want.name);
  if (again) return again;
  if (!Number.isInteger(want.dimension) || want.dimension < 1) throw new VectorError(`bad dimension ${want.dimension}`, "VECTOR_INVALID");
  const c: Collection = { ...want, table: tableNameFor(want.scope, want.name) };
  const table = tableOf(c);
  await s.query(`create table ${table} (
    id text primary key,
    embedding vector(${want.dimension}) not null,
    content text,
    metadata jsonb not null default '{}',
    updated_at timestamptz not null default now())`);
  await s.query(createIndexSql(c));
  await s.query(`alter table ${table} enable row level security`);
  await s.query(`create policy scoped on ${table} using (${rowPolicy(c)}) with check (${setFor(c)})`);
  await s.query("insert into hangar.vector_collections (scope, name, table_name, dimension, metric) values ($1, $2, $3, $4, $5)", [
    c.scope,
    c.name,
    c.table,
    c.dimension,
    c.metric,
  ]);
  return c;
}

/** Let `role` (the function's) use the collection's table, as the host; once per (table, role). */
export async function ensureGrant(db: Db, s: Sql, c: Collection, role: string): Promise<void> {
  if (knownGrant(db, c, role)) return;
  const check = `select pg_catalog.has_schema_privilege($1, 'hangar_vectors', 'USAGE')
      and pg_catalog.has_table_privilege($1, $2::regclass, 'SELECT') and pg_catalog.has_table_privilege($1, $2::regclass, 'INSERT')
      and pg_catalog.has_table_privilege($1, $2::regclass, 'UPDATE') and pg_catalog.has_table_privilege($1, $2::regclass, 'DELETE') as ok`;
  const has = async () => (await s.query<{ ok: boolean }>(check, [role, tableOf(c)])).rows[0].ok;
  if (await has()) return;
  // Grants update catalog rows (the schema's too): serialise them.
  await s.query("select pg_advisory_xact_lock($1::int8)", [lockKey("hangar:vector-grants")]);
  if (await has()) return;
  await s.query(`grant usage on schema hangar_vectors to ${pg.escapeIdentifier(role)}`);
  await s.query(`grant select, insert, update, delete on ${tableOf(c)} to ${pg.escapeIdentifier(role)}`);
}

const versions = new WeakMap<Db, Promise<boolean>>();

/** pgvector >= 0.8 has iterative index scans, which keep filtered searches from coming back short. */
export function hasIterativeScan(db: Db, s: Sql): Promise<boolean> {
  let v = versions.get(rootOf(db));
  if (!v) {
    v = s.query<{ v: string }>("select extversion as v from pg_catalog.pg_extension where extname = 'vector'", []).then(({ rows }) => {
      const [major, minor] = (rows[0]?.v ?? "0.0").split(".").map(Number);
      return major > 0 || minor >= 8;
    });
    const root = rootOf(db);
    versions.set(root, v);
    // A failed probe (a cut session, a timeout) is asked again next time, not remembered.
    v.catch(() => versions.get(root) === v && versions.delete(root));
  }
  return v;
}
