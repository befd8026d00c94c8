// @both-backends
// Recall of HNSW search against exact search on a synthetic set: 20,000
// vectors of 128 dimensions around 100 centres on Postgres (5,000 on PGlite,
// which is slower), loaded in batches of 5,000 through vector.upsert.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { HostCallInfo } from "../../../runtime/types.ts";
import { createVectorBindings } from "../../../host/bindings/vector/index.ts";
import { backend, createTestDatabase, type TestDatabase } from "../../helpers/db.ts";
import { clusteredVectors, exactTopK } from "./prng.ts";

const N = backend === "pglite" ? 5_000 : 20_000;
const DIM = 128;
const QUERIES = 50;
const BATCH = 5_000;
let t: TestDatabase;
const info: HostCallInfo = { requestId: "recall", signal: new AbortController().signal };

before(async () => {
  t = await createTestDatabase();
});
after(() => t.close());

test(`${backend}: recall@10 >= 0.95 against exact search on ${N} x ${DIM}`, { timeout: 120_000 }, async () => {
  // Queries come from the same distribution as the data, not from it.
  const all = clusteredVectors(N + QUERIES, DIM, 100, 42);
  const data = all.slice(0, N);
  const queries = all.slice(N);
  const v = createVectorBindings({ db: t.db, fnName: "test-fn" });
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const items = data.slice(i, i + BATCH).map((embedding, j) => ({ id: String(i + j), embedding }));
    await v.functions["vector.upsert"](["synthetic", items], info);
  }
  const insertMs = performance.now() - t0;
  let hits = 0;
  let searchMs = 0;
  for (const q of queries) {
    const s0 = performance.now();
    const found = (await v.functions["vector.search"](["synthetic", q, { k: 10 }], info)) as { id: string; score: number }[];
    searchMs += performance.now() - s0;
    assert.equal(found.length, 10);
    const exact = new Set(exactTopK(data, q, 10).map(String));
    hits += found.filter((h) => exact.has(h.id)).length;
  }
  // The same answer from Postgres with the index turned off.
  const exactSql = await t.db.transaction(async (tx) => {
    await tx.query("set local enable_indexscan = off");
    const table = (await tx.query<{ t: string }>("select table_name as t from hangar.vector_collections where name = 'synthetic'")).rows[0].t;
    const { rows } = await tx.query<{ id: string }>(`select id from hangar_vectors.${table} order by embedding <=> $1::vector limit 10`, [`[${queries[0].join(",")}]`]);
    return rows.map((r) => r.id);
  });
  assert.deepEqual(new Set(exactSql), new Set(exactTopK(data, queries[0], 10).map(String)));
  const recall = hits / (QUERIES * 10);
  console.log(`${backend}: ${N} x ${DIM}: insert ${(insertMs / 1000).toFixed(1)} s, recall@10 ${recall.toFixed(3)}, search ${(searchMs / QUERIES).toFixed(1)} ms avg`);
  assert.ok(recall >= 0.95, `recall@10 ${recall}`);
  await v.close();
});
