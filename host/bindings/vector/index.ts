// Guest vector host functions on pgvector: "vector.upsert", "vector.search", "vector.remove".
import { HostBindingError, markJsonReady, type HostFunctions } from "../../../runtime/types.ts";
import type { Db, Sql } from "../../db/index.ts";
import pg from "pg";
import { mutexFor } from "../sql/lanes.ts";
import { contextStep, DEFAULT_SQL_LIMITS, enterSql, GUEST_ROLE, restoreSql, saveContext, type SqlLimits } from "../sql/context.ts";
import { SqlError, toGuestError } from "../sql/errors.ts";
import { cachedRoleProblem } from "../sql/roles.ts";
import { isPrepared, isWireClient, preparedCount, runSteps, type Step, type WireClient } from "../sql/wire.ts";
import { createIndexSql, ensureCollection, ensureGrant, findCollection, indexOf, hasIterativeScan, knownCollection, knownGrant, remember, SHARED_SCOPE, tableOf, type Collection } from "./collections.ts";
import { VectorError } from "./errors.ts";
import { isMetric, METRICS, type Metric } from "./metric.ts";
import { collectionName, efSearchOption, embeddingLength, embeddingText, MAX_EF_SEARCH, MAX_ITEMS, plainObject, topK } from "./validate.ts";

export { VectorError } from "./errors.ts";
export { METRICS, type Metric } from "./metric.ts";
export { MAX_K, MAX_DIMENSION, MAX_ITEMS, MAX_EF_SEARCH, COLLECTION_NAME } from "./validate.ts";

export interface VectorBindingOptions {
  db: Db;
  /** The invoked function: its collections are its own unless it names "shared:<name>". */
  fnName: string;
  /** The function's database role (default `hangar_guest`): vector SQL on collection rows runs as it. */
  role?: string | null;
  /** HANGAR_FUNCTION_ROLES, checked as the sql binding does. */
  allowedRoles?: readonly string[] | null;
  /** The guest's SQL timeouts. */
  limits?: Partial<SqlLimits>;
  /**
   * The session to run on instead of the pool, when there is one: the
   * exactly-once session, or on PGlite the session an open sql.begin holds
   * (pass `sqlBindings.sharedSession`). Work there runs in a savepoint.
   */
  sharedSession?: () => Sql | null;
  /** Default hnsw.ef_search when a search names none: max(this, 2k), capped at 1000 (default 200). */
  efSearch?: number;
  /** Host statements a pool session may hold prepared before searches of further tables are parsed each time (default 64). */
  maxPrepared?: number;
}

export interface VectorBindings {
  functions: HostFunctions;
  close(): Promise<void>;
}

/** A search's statement: $1 the query vector, $2 k, $3 the metadata filter (when `filter`). */
export const searchSql = (c: Collection, filter: boolean) =>
  `select id, content, metadata, embedding ${METRICS[c.metric].op} $1::vector as distance from ${tableOf(c)}
         ${filter ? "where metadata @> $3::jsonb" : ""} order by embedding ${METRICS[c.metric].op} $1::vector limit $2`;

const BATCH = 500;
const BULK_MIN = 1000;

/** Vector host functions for one invocation. */
export function createVectorBindings(opts: VectorBindingOptions): VectorBindings {
  const { db } = opts;
  const role = opts.role || GUEST_ROLE;
  let closed = false;
  let savepoints = 0;
  const guestCtx = (extra: string) =>
    `${extra}; ${enterSql({ role, claims: null, limits: { ...DEFAULT_SQL_LIMITS, ...opts.limits }, idleTimeout: db.kind !== "pglite" })}`;

  /** Where a guest's collection name points: its own scope, or the shared namespace. */
  const resolve = (op: string, raw: unknown) => {
    const n = collectionName(op, raw);
    return { scope: n.shared ? SHARED_SCOPE : opts.fnName, name: n.name, label: n.label };
  };

  /** Host work done: act as the guest (its role and timeouts) on this collection's rows only. */
  async function enterGuest(s: Sql, c: Collection, extra = "") {
    const problem = await cachedRoleProblem(db, s, role, opts.allowedRoles ?? null);
    if (problem) throw new SqlError(`function SQL refused: ${problem}; functions run as an ordinary role`, "42501");
    await ensureGrant(db, s, c, role);
    await s.query(guestCtx(`${extra}set local "hangar.vector_table" = ${pg.escapeLiteral(c.table)}`));
  }

  /** Back to the host inside the same transaction (index builds need the table's owner). */
  const leaveGuest = (s: Sql) => s.query(`set local role none; set local "hangar.vector_table" = ''; set local statement_timeout = '60s'`);

  /** Run `fn` in a transaction: a savepoint in the shared session, else a pool transaction. `committed` says whether the result is durable. */
  async function inTx<T>(fn: (s: Sql) => Promise<T>): Promise<{ value: T; committed: boolean }> {
    const shared = opts.sharedSession?.() ?? null;
    if (!shared) return { value: await db.transaction(fn), committed: true };
    const value = await mutexFor(shared).run(async () => {
      // The session may be in the guest's context (a sql.begin on PGlite): act as the host, then put it back.
      const saved = await saveContext(shared);
      const sp = `hangar_v${++savepoints}`;
      await shared.query(`savepoint ${sp}; set local role none`);
      try {
        const v = await fn(shared);
        await shared.query(`release savepoint ${sp}; ${restoreSql(saved)}; set local "hangar.vector_table" = ''`);
        return v;
      } catch (err) {
        await shared.query(`rollback to savepoint ${sp}; release savepoint ${sp}`).catch(() => {});
        throw err;
      }
    });
    return { value, committed: false };
  }

  const guard =
    (fn: (args: unknown[]) => Promise<unknown>) =>
    async (args: unknown[]): Promise<unknown> => {
      if (closed) throw new HostBindingError("vector used after the invocation ended", "VECTOR_CLOSED");
      try {
        return await fn(args);
      } catch (err) {
        throw err instanceof VectorError ? err : toGuestError(err);
      }
    };

  async function upsert(args: unknown[]) {
    const { scope, name, label } = resolve("vector.upsert", args[0]);
    const items = args[1];
    const options = plainObject("vector.upsert", "options", args[2]) ?? {};
    if (!Array.isArray(items)) throw new VectorError(`vector.upsert("${label}"): items must be an array`, "VECTOR_INVALID");
    if (items.length === 0) return { count: 0 };
    if (items.length > MAX_ITEMS) throw new VectorError(`vector.upsert("${label}"): ${items.length} items; at most ${MAX_ITEMS} per call`, "VECTOR_INVALID");
    const metric: Metric = options.metric === undefined ? "cosine" : isMetric(options.metric) ? options.metric : (() => {
      throw new VectorError(`vector.upsert("${label}"): metric must be cosine, l2 or ip`, "VECTOR_INVALID");
    })();
    const first = (items[0] as { embedding?: unknown } | null)?.embedding;
    const dimension = embeddingLength(first);
    // Last item wins for a repeated id, as sequential upserts would.
    const byId = new Map<string, [string, string, string | null, string]>();
    const { value: collection, committed } = await inTx(async (s) => {
      const known = (await findCollection(db, s, scope, name)) ?? null;
      for (const raw of items) {
        const item = plainObject(`vector.upsert("${label}")`, "each item", raw) ?? {};
        if (typeof item.id !== "string" || !item.id) throw new VectorError(`vector.upsert("${label}"): each item needs a non-empty string id`, "VECTOR_INVALID");
        const e = embeddingText("vector.upsert", name, item.embedding, known?.dimension ?? dimension, `embedding for id "${item.id}"`);
        if (item.content != null && typeof item.content !== "string") throw new VectorError(`vector.upsert("${label}"): content for id "${item.id}" must be a string`, "VECTOR_INVALID");
        const metadata = plainObject(`vector.upsert("${label}")`, `metadata for id "${item.id}"`, item.metadata) ?? {};
        byId.set(item.id, [item.id, e, (item.content as string | undefined) ?? null, JSON.stringify(metadata)]);
      }
      const c: Collection = known ?? (await ensureCollection(db, s, { scope, name, dimension, metric }));
      if (options.metric !== undefined && c.metric !== metric) {
        throw new VectorError(`vector.upsert("${label}"): collection "${name}" uses metric ${c.metric}, not ${metric}`, "VECTOR_INVALID");
      }
      const rows = [...byId.values()];
      // A batch that at least doubles a collection is loaded with the index
      // dropped and rebuilt after: building HNSW in bulk is several times
      // faster than inserting into the graph row by row.
      let rebuild = false;
      if (rows.length >= BULK_MIN) {
        const { rows: n } = await s.query<{ n: number }>(`select count(*)::int as n from ${tableOf(c)}`, []);
        rebuild = rows.length >= n[0].n;
        if (rebuild) await s.query(`drop index if exists hangar_vectors.${indexOf(c)}`);
      }
      await enterGuest(s, c);
      for (let i = 0; i < rows.length; i += BATCH) {
        const chunk = rows.slice(i, i + BATCH);
        await s.query(
          `insert into ${tableOf(c)} (id, embedding, content, metadata)
           select id, e::vector, content, metadata from unnest($1::text[], $2::text[], $3::text[], $4::jsonb[]) as u(id, e, content, metadata)
           on conflict (id) do update set embedding = excluded.embedding, content = excluded.content, metadata = excluded.metadata, updated_at = now()`,
          [chunk.map((r) => r[0]), chunk.map((r) => r[1]), chunk.map((r) => r[2]), chunk.map((r) => r[3])],
        );
      }
      if (rebuild) {
        await leaveGuest(s);
        await s.query(createIndexSql(c));
      }
      return c;
    });
    if (committed) remember(db, collection, role);
    return { count: byId.size };
  }

  type Hit = { id: string; content: string | null; metadata: Record<string, unknown>; distance: number };
  // text, a number and jsonb (JSON.parse's, never a NUL): the reply is their JSON as it is (contract.js markJsonReady)
  const hits = (c: Collection, rows: Hit[]) =>
    markJsonReady(rows.map((r) => ({ id: r.id, score: METRICS[c.metric].score(Number(r.distance)), content: r.content, metadata: r.metadata })));

  async function search(args: unknown[]) {
    const { scope, name, label } = resolve("vector.search", args[0]);
    const options = plainObject("vector.search", "options", args[2]) ?? {};
    const k = topK(options.k);
    const filter = plainObject("vector.search", "filter", options.filter);
    const asked = efSearchOption(options.efSearch);
    // pgvector returns at most ef_search rows: never fewer than k.
    const ef = Math.min(MAX_EF_SEARCH, asked !== null ? Math.max(asked, k) : Math.max(opts.efSearch ?? 200, 2 * k));
    const params = (q: string): unknown[] => (filter ? [q, k, JSON.stringify(filter)] : [q, k]);

    // A collection and grant seen committed before: one round trip on a pool session.
    const known = knownCollection(db, scope, name);
    if (known && knownGrant(db, known, role) && !opts.sharedSession?.()) {
      const q = embeddingText("vector.search", label, args[1], known.dimension, "the query embedding");
      const fast = await db.withClient(async (s) => (isWireClient(s) ? searchOneTrip(s, known, k, ef, params(q), !!filter) : null));
      if (fast) return fast;
    }

    const { value, committed } = await inTx(async (s) => {
      const c = await findCollection(db, s, scope, name);
      if (!c) {
        embeddingText("vector.search", label, args[1], null, "the query embedding");
        return null;
      }
      const q = embeddingText("vector.search", label, args[1], c.dimension, "the query embedding");
      const iterative = filter && (await hasIterativeScan(db, s));
      await enterGuest(s, c, `set local hnsw.ef_search = ${ef}${iterative ? "; set local hnsw.iterative_scan = strict_order" : ""}; `);
      const { rows } = await s.query<Hit>(searchSql(c, !!filter), params(q));
      return { c, found: hits(c, rows) };
    });
    if (!value) return [];
    if (committed) remember(db, value.c, role);
    return value.found;
  }

  /**
   * The search settings (as the host), the guest's context (its role last)
   * and the search, behind one Sync: one implicit transaction, so the
   * settings end with it. Only host SQL runs; nothing needs resetting.
   */
  async function searchOneTrip(s: WireClient, c: Collection, k: number, ef: number, values: unknown[], filter: boolean) {
    const problem = await cachedRoleProblem(db, s, role, opts.allowedRoles ?? null);
    if (problem) throw new SqlError(`function SQL refused: ${problem}; functions run as an ordinary role`, "42501");
    const iterative = filter && (await hasIterativeScan(db, s));
    const settings: Step = iterative
      ? {
          name: "hangar_vec_it",
          text: "select pg_catalog.set_config('hnsw.ef_search', $1, true), pg_catalog.set_config('hangar.vector_table', $2, true), pg_catalog.set_config('hnsw.iterative_scan', 'strict_order', true)",
          values: [String(ef), c.table],
        }
      : { name: "hangar_vec", text: "select pg_catalog.set_config('hnsw.ef_search', $1, true), pg_catalog.set_config('hangar.vector_table', $2, true)", values: [String(ef), c.table] };
    const ctx = contextStep({ role, claims: null, limits: { ...DEFAULT_SQL_LIMITS, ...opts.limits }, idleTimeout: db.kind !== "pglite" });
    // Prepared once per session (named): parsing and planning a search is about a third of its server time.
    // A session holds a bounded number of them; past that, a table's search is parsed each time.
    // (the name carries all the text depends on: a collection made again under its name may have another metric)
    const name = `hangar_vs_${c.table}_${c.metric}${filter ? "_f" : ""}`;
    const named = isPrepared(s, name) || preparedCount(s) < (opts.maxPrepared ?? 64) ? name : undefined;
    const results = await runSteps(s, [settings, ctx, { name: named, text: searchSql(c, filter), values, rows: { max: k } }]);
    return hits(c, results[2].rows as Hit[]);
  }

  async function remove(args: unknown[]) {
    const { scope, name, label } = resolve("vector.remove", args[0]);
    const ids = args[1];
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string")) throw new VectorError(`vector.remove("${label}"): ids must be an array of strings`, "VECTOR_INVALID");
    if (!ids.length) return { count: 0 };
    const { value } = await inTx(async (s) => {
      const c = await findCollection(db, s, scope, name);
      if (!c) return 0;
      await enterGuest(s, c);
      const res = await s.query(`delete from ${tableOf(c)} where id = any($1::text[])`, [ids]);
      return res.rowCount ?? 0;
    });
    return { count: value };
  }

  return {
    functions: { "vector.upsert": guard(upsert), "vector.search": guard(search), "vector.remove": guard(remove) },
    async close() {
      closed = true;
    },
  };
}
