// The collection registry: hangar.vector_collections, one table per
// collection in schema hangar_vectors, created on first upsert under a
// transaction-level advisory lock so racing instances create it once.
import { createHash } from "node:crypto";
import pg from "pg";
import type { Db, Sql } from "../../db/index.ts";
import { lockKey } from "../../db/lock-key.ts";
import { VectorError } from "./errors.ts";
import { METRICS, type Metric } from "./metric.ts";

export interface Collection {
  name: string;
  dimension: number;
  metric: Metric;
}

/** Quoted table name; the name was validated against COLLECTION_NAME. */
export const tableOf = (name: string) => `hangar_vectors.${pg.escapeIdentifier(name)}`;

// Collections are never dropped by the binding, so what was committed stays true.
const known = new WeakMap<Db, Map<string, Collection>>();

function cacheOf(db: Db): Map<string, Collection> {
  let m = known.get(db);
  if (!m) known.set(db, (m = new Map()));
  return m;
}

/** The HNSW index's name (collection names may be too long to suffix). */
export const indexOf = (name: string) => `hnsw_${createHash("sha256").update(name).digest("hex").slice(0, 20)}`;

/** CREATE INDEX for a collection's HNSW index. */
export const createIndexSql = (c: Collection) =>
  `create index ${indexOf(c.name)} on ${tableOf(c.name)} using hnsw (embedding ${METRICS[c.metric].opclass})`;

/** The collection, or null when it does not exist. */
export async function findCollection(db: Db, s: Sql, name: string): Promise<Collection | null> {
  const cached = cacheOf(db).get(name);
  if (cached) return cached;
  const { rows } = await s.query<{ dimension: number; metric: Metric }>("select dimension, metric from hangar.vector_collections where name = $1", [name]);
  return rows[0] ? { name, dimension: rows[0].dimension, metric: rows[0].metric } : null;
}

/** Remember a collection once the transaction that saw it is known to be committed. */
export function remember(db: Db, c: Collection): void {
  cacheOf(db).set(c.name, c);
}

/** Create the collection unless it exists; `s` must be inside a transaction. */
export async function ensureCollection(db: Db, s: Sql, want: Collection): Promise<Collection> {
  const found = await findCollection(db, s, want.name);
  if (found) return found;
  await s.query("select pg_advisory_xact_lock($1::int8)", [lockKey(`hangar:vector:${want.name}`)]);
  const again = await findCollection(db, s, want.name);
  if (again) return again;
  if (!Number.isInteger(want.dimension) || want.dimension < 1) throw new VectorError(`bad dimension ${want.dimension}`, "VECTOR_INVALID");
  const table = tableOf(want.name);
  await s.query(`create table ${table} (
    id text primary key,
    embedding vector(${want.dimension}) not null,
    content text,
    metadata jsonb not null default '{}',
    updated_at timestamptz not null default now())`);
  await s.query(createIndexSql(want));
  await s.query("insert into hangar.vector_collections (name, dimension, metric) values ($1, $2, $3)", [want.name, want.dimension, want.metric]);
  return want;
}

const versions = new WeakMap<Db, Promise<boolean>>();

/** pgvector >= 0.8 has iterative index scans, which keep filtered searches from coming back short. */
export function hasIterativeScan(db: Db, s: Sql): Promise<boolean> {
  let v = versions.get(db);
  if (!v) {
    v = s.query<{ v: string }>("select extversion as v from pg_catalog.pg_extension where extname = 'vector'", []).then(({ rows }) => {
      const [major, minor] = (rows[0]?.v ?? "0.0").split(".").map(Number);
      return major > 0 || minor >= 8;
    });
    versions.set(db, v);
  }
  return v;
}
