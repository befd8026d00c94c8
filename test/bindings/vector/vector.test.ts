// @both-backends
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { HostCallInfo } from "../../../runtime/types.ts";
import { createSqlBindings } from "../../../host/bindings/sql/index.ts";
import { createVectorBindings, searchSql } from "../../../host/bindings/vector/index.ts";
import { tableNameFor } from "../../../host/bindings/vector/collections.ts";
import { readFileSync } from "node:fs";
import { gaussianVectors } from "./prng.ts";
import { backend, createTestDatabase, type TestDatabase } from "../../helpers/db.ts";
import { createRuntime } from "../../../runtime/index.ts";
import { fetchBundle, input, ROOMY } from "../../runtime/helpers.ts";

let t: TestDatabase;
const info: HostCallInfo = { requestId: "vec", signal: new AbortController().signal };
before(async () => {
  t = await createTestDatabase();
});
after(() => t.close());

function vec() {
  const v = createVectorBindings({ db: t.db, fnName: "test-fn" });
  const call = (name: string, ...args: unknown[]) => v.functions[name](args, info) as Promise<any>;
  return { call, close: () => v.close() };
}

test(`${backend}: upsert creates the collection with an HNSW index; search ranks by cosine`, async () => {
  const { call, close } = vec();
  assert.deepEqual(
    await call("vector.upsert", "docs", [
      { id: "x", embedding: [1, 0, 0], content: "x axis", metadata: { lang: "en" } },
      { id: "y", embedding: [0, 1, 0], content: "y axis", metadata: { lang: "de" } },
      { id: "xy", embedding: [1, 1, 0], content: "diagonal", metadata: { lang: "en", tag: "d" } },
    ]),
    { count: 3 },
  );
  const hits = await call("vector.search", "docs", [1, 0.1, 0], { k: 2 });
  assert.deepEqual(hits.map((h: any) => h.id), ["x", "xy"]);
  assert.ok(Math.abs(hits[0].score - (1 - (1 - 1 / Math.sqrt(1.01)))) < 1e-4);
  assert.deepEqual(hits[0].metadata, { lang: "en" });
  assert.equal(hits[0].content, "x axis");
  const { rows } = await t.db.query<{ dimension: number; metric: string; table_name: string }>("select dimension, metric, table_name from hangar.vector_collections where scope = 'test-fn' and name = 'docs'");
  assert.deepEqual(rows.map(({ dimension, metric }) => ({ dimension, metric })), [{ dimension: 3, metric: "cosine" }]);
  const idx = await t.db.query("select indexdef from pg_indexes where schemaname = 'hangar_vectors' and tablename = $1 and indexdef like '%hnsw%'", [rows[0].table_name]);
  assert.match(String(idx.rows[0].indexdef), /vector_cosine_ops/);
  await close();
});

test(`${backend}: a wrong dimension is a clear error naming the collection, expected and got`, async () => {
  const { call } = vec();
  await call("vector.upsert", "dims", [{ id: "a", embedding: [1, 2, 3, 4] }]);
  await assert.rejects(call("vector.upsert", "dims", [{ id: "b", embedding: [1, 2, 3] }]), (e: any) => e.code === "VECTOR_DIMENSION" && /"dims"/.test(e.message) && /expects 4/.test(e.message) && /has 3/.test(e.message));
  await assert.rejects(call("vector.search", "dims", [1, 2]), (e: any) => e.code === "VECTOR_DIMENSION" && /expects 4/.test(e.message) && /has 2/.test(e.message));
  await assert.rejects(call("vector.upsert", "dims2", [{ id: "a", embedding: [1, 2] }, { id: "b", embedding: [1] }]), (e: any) => e.code === "VECTOR_DIMENSION");
  // The failed first upsert created nothing.
  assert.deepEqual(await call("vector.search", "dims2", [1, 2]), []);
});

test(`${backend}: metadata filter, upsert replaces, remove deletes`, async () => {
  const { call } = vec();
  await call("vector.upsert", "filt", [
    { id: "a", embedding: [1, 0], metadata: { lang: "en", n: 1 } },
    { id: "b", embedding: [0.9, 0.1], metadata: { lang: "de" } },
    { id: "c", embedding: [0, 1], metadata: { lang: "en" } },
  ]);
  assert.deepEqual((await call("vector.search", "filt", [1, 0], { filter: { lang: "en" } })).map((h: any) => h.id), ["a", "c"]);
  assert.deepEqual((await call("vector.search", "filt", [1, 0], { filter: { lang: "en", n: 1 } })).map((h: any) => h.id), ["a"]);
  await call("vector.upsert", "filt", [{ id: "a", embedding: [0, 1], content: "moved", metadata: { lang: "fr" } }]);
  const [top] = await call("vector.search", "filt", [0, 1], { k: 1, filter: { lang: "fr" } });
  assert.equal(top.content, "moved");
  assert.deepEqual(await call("vector.remove", "filt", ["a", "zzz"]), { count: 1 });
  assert.deepEqual((await call("vector.search", "filt", [1, 0])).map((h: any) => h.id), ["b", "c"]);
  assert.deepEqual(await call("vector.remove", "nothing-here", ["a"]), { count: 0 });
});

test(`${backend}: k is capped, names are validated, items are checked`, async () => {
  const { call } = vec();
  await call("vector.upsert", "caps", [{ id: "a", embedding: [1, 0] }]);
  await assert.rejects(call("vector.search", "caps", [1, 0], { k: 1001 }), (e: any) => e.code === "VECTOR_K_LIMIT" && /at most 1000/.test(e.message));
  await assert.rejects(call("vector.search", "caps", [1, 0], { k: 0 }), (e: any) => e.code === "VECTOR_INVALID");
  for (const bad of ["Docs", "a b", 'x"; drop table hangar.functions; --', "", "a".repeat(64), "../x"]) {
    await assert.rejects(call("vector.upsert", bad, [{ id: "a", embedding: [1] }]), (e: any) => e.code === "VECTOR_INVALID", bad);
  }
  await assert.rejects(call("vector.upsert", "caps", [{ id: "b", embedding: [1, NaN] }]), (e: any) => e.code === "VECTOR_INVALID");
  await assert.rejects(call("vector.upsert", "caps", [{ embedding: [1, 0] }]), (e: any) => e.code === "VECTOR_INVALID");
  assert.equal((await call("vector.search", "caps", [1, 0], { k: 1000 })).length, 1);
});

test(`${backend}: efSearch picks hnsw.ef_search per search (never below k); bad values are refused`, async () => {
  const { call } = vec();
  await call("vector.upsert", "efs", [{ id: "a", embedding: [1, 0] }, { id: "b", embedding: [0, 1] }, { id: "c", embedding: [1, 1] }]);
  assert.deepEqual((await call("vector.search", "efs", [1, 0.1], { k: 3, efSearch: 1 })).map((h: any) => h.id), ["a", "c", "b"]);
  assert.deepEqual((await call("vector.search", "efs", [1, 0.1], { k: 1, efSearch: 1000 })).map((h: any) => h.id), ["a"]);
  for (const bad of [0, 1001, 1.5, "40"]) {
    await assert.rejects(call("vector.search", "efs", [1, 0], { efSearch: bad }), (e: any) => e.code === "VECTOR_INVALID" && /efSearch/.test(e.message), String(bad));
  }
});

test(`${backend}: other metrics: l2 and inner product`, async () => {
  const { call } = vec();
  await call("vector.upsert", "l2c", [{ id: "near", embedding: [1, 1] }, { id: "far", embedding: [5, 5] }], { metric: "l2" });
  const hits = await call("vector.search", "l2c", [1, 1]);
  assert.deepEqual(hits.map((h: any) => h.id), ["near", "far"]);
  assert.equal(hits[0].score, 1);
  await call("vector.upsert", "ipc", [{ id: "big", embedding: [3, 0] }, { id: "small", embedding: [1, 0] }], { metric: "ip" });
  const ip = await call("vector.search", "ipc", [1, 0]);
  assert.deepEqual(ip.map((h: any) => [h.id, h.score]), [["big", 3], ["small", 1]]);
  await assert.rejects(call("vector.upsert", "l2c", [{ id: "x", embedding: [1, 1] }], { metric: "cosine" }), /uses metric l2/);
});

test(`${backend}: a table's search is prepared once per session, up to the session's cap; past it searches are parsed each time`, async () => {
  // PGlite has one session, so its prepared statements are the bindings': the cap leaves room for three more
  const held = async () => (await t.db.query<{ name: string }>("select name from pg_prepared_statements order by prepare_time")).rows.map((r) => r.name);
  const before = backend === "pglite" ? (await held()).length : 0;
  const v = createVectorBindings({ db: t.db, fnName: "prep-fn", maxPrepared: before + 3 });
  const call = (name: string, ...args: unknown[]) => v.functions[name](args, info) as Promise<any>;
  try {
    const names = ["p1", "p2", "p3", "p4"];
    for (const [i, n] of names.entries()) await call("vector.upsert", n, [{ id: `${n}-near`, embedding: [1, i + 1] }, { id: `${n}-far`, embedding: [-1, -(i + 1)] }]);
    for (let round = 0; round < 3; round++) {
      for (const [i, n] of names.entries()) {
        const hits = await call("vector.search", n, [1, i + 1], { k: 2 });
        assert.deepEqual(hits.map((h: any) => h.id), [`${n}-near`, `${n}-far`], `round ${round}, ${n}`);
        const filtered = await call("vector.search", n, [1, i + 1], { k: 2, filter: {} });
        assert.deepEqual(filtered.map((h: any) => h.id), [`${n}-near`, `${n}-far`]);
      }
    }
    if (backend === "pglite") {
      const table = (n: string) => tableNameFor("prep-fn", n);
      const mine = (await held()).filter((n) => names.some((c) => n.includes(table(c))));
      assert.deepEqual(mine, [`hangar_vs_${table("p1")}_cosine`, `hangar_vs_${table("p1")}_cosine_f`, `hangar_vs_${table("p2")}_cosine`]);
    }
  } finally {
    await v.close();
  }
});

test(`${backend}: racing first upserts create the collection once`, async () => {
  const bindings = Array.from({ length: 4 }, () => vec());
  const results = await Promise.all(bindings.map((b, i) => b.call("vector.upsert", "race", [{ id: `r${i}`, embedding: [i, 1] }])));
  assert.deepEqual(results, Array(4).fill({ count: 1 }));
  assert.equal((await bindings[0].call("vector.search", "race", [1, 1], { k: 10 })).length, 4);
});

test(`${backend}: inside an open sql.begin (PGlite: on the held session) and an exactly-once session`, async () => {
  const sql = createSqlBindings({ db: t.db });
  const v = createVectorBindings({ db: t.db, fnName: "test-fn", sharedSession: sql.sharedSession });
  const tx = await sql.functions["sql.begin"]([], info);
  await v.functions["vector.upsert"](["shared", [{ id: "a", embedding: [1, 0] }]], info);
  assert.equal(((await v.functions["vector.search"](["shared", [1, 0]], info)) as unknown[]).length, 1);
  await sql.functions["sql.rollback"]([tx], info);
  await sql.close();
  await t.db.withClient(async (session) => {
    await session.query("begin");
    const s2 = createSqlBindings({ db: t.db, session });
    const v2 = createVectorBindings({ db: t.db, fnName: "test-fn", sharedSession: s2.sharedSession });
    await v2.functions["vector.upsert"](["once", [{ id: "a", embedding: [1, 0] }]], info);
    await assert.rejects(v2.functions["vector.upsert"](["once", [{ id: "b", embedding: [1] }]], info));
    await s2.close();
    await session.query("rollback");
  });
  const { rows } = await t.db.query("select name from hangar.vector_collections where name = 'once'");
  assert.equal(rows.length, 0);
});

test(`${backend}: a search as the function's role plans the HNSW index scan; the row policy hides nothing from the planner`, async () => {
  const { call, close } = vec();
  const data = gaussianVectors(3_000, 16, 7);
  await call("vector.upsert", "planned", data.map((embedding, i) => ({ id: String(i), embedding })));
  const [{ table_name: table }] = (await t.db.query<{ table_name: string }>("select table_name from hangar.vector_collections where scope = 'test-fn' and name = 'planned'")).rows;
  const c = { scope: "test-fn", name: "planned", table, dimension: 16, metric: "cosine" as const };
  // What the binding runs, in the context it runs it: the setting, then the guest role.
  const asGuest = (setting: string) =>
    t.db.transaction(async (tx) => {
      await tx.query(`set local "hangar.vector_table" = '${setting}'; set local role hangar_guest`);
      const plan = (await tx.query<{ "QUERY PLAN": unknown }>(`explain (format json) ${searchSql(c, false)}`, [`[${data[5].join(",")}]`, 10])).rows[0]["QUERY PLAN"];
      const { rows } = await tx.query<{ n: number }>(`select count(*)::int as n from hangar_vectors.${table}`);
      return { plan: JSON.stringify(plan), visible: rows[0].n };
    });
  const mine = await asGuest(table);
  assert.match(mine.plan, /"Index Scan"/, mine.plan);
  assert.equal(mine.visible, 3_000);
  assert.equal((await asGuest("c_other")).visible, 0);
  assert.equal((await call("vector.search", "planned", data[5], { k: 1 }))[0].id, "5");

  // A collection made before migration 0011 (the bare setting test) gets the planner-visible policy from it.
  await t.db.query(`alter policy scoped on hangar_vectors.${table} using (pg_catalog.current_setting('hangar.vector_table', true) = '${table}')`);
  assert.match((await asGuest(table)).plan, /"Seq Scan"/, "the old policy's plan (else this test proves nothing)");
  await t.db.query(readFileSync(new URL("../../../sql/0011_vector_policy_plan.sql", import.meta.url), "utf8"));
  const migrated = await asGuest(table);
  assert.match(migrated.plan, /"Index Scan"/, migrated.plan);
  assert.equal(migrated.visible, 3_000);
  assert.equal((await asGuest("")).visible, 0);
  await close();
});

// A guest's embeddings cross as float64 bytes (runtime/guest/hangar.js packs
// them; the interpreter's JSON of doubles is slow): arrays of numbers,
// Float32Array and Float64Array all store and search alike, and what is not
// an embedding is refused with the same message as before.
for (const threads of [0, 1]) {
  test(`${backend}: a guest's embeddings as arrays, Float32Array and Float64Array (${threads ? "sandbox thread" : "in process"})`, async () => {
    const v = createVectorBindings({ db: t.db, fnName: `packed-${threads}` });
    const rt = await createRuntime({ threads });
    try {
      const inst = await rt.load("packed", fetchBundle(`async () => {
        const { vector } = globalThis.__hangar;
        const upserted = await vector.upsert("p", [
          { id: "x", embedding: [1, 0, 0.5] },
          { id: "y", embedding: new Float32Array([0, 1, 0.25]), content: "y" },
          { id: "z", embedding: new Float64Array([0, 0, 1]), metadata: { k: "z" } },
        ]);
        const ids = async (e) => (await vector.search("p", e, { k: 3 })).map((h) => h.id + ":" + h.score.toFixed(4));
        const refused = async (f) => { try { await f(); return "accepted"; } catch (e) { return e.code + " " + e.message; } };
        return Response.json({
          upserted,
          array: await ids([0.1, 1, 0.2]),
          f32: await ids(new Float32Array([0.1, 1, 0.2])),
          f64: await ids(new Float64Array([0.1, 1, 0.2]).subarray(0)),
          view: await ids(new Float64Array([9, 0.1, 1, 0.2]).subarray(1)),
          mixed: await refused(() => vector.search("p", [1, "0", 0])),
          nan: await refused(() => vector.search("p", [1, NaN, 0])),
          empty: await refused(() => vector.search("p", new Float32Array(0))),
          dims: await refused(() => vector.search("p", new Float32Array(2))),
          bytes: await refused(() => vector.search("p", new Uint8Array([1, 2, 3]))),
          item: await refused(() => vector.upsert("p", [{ id: "w", embedding: [1, null, 0] }])),
        });
      }`), { limits: ROOMY });
      const o = await inst.fetch({ url: "http://localhost/", method: "GET", headers: [], body: null }, input({ limits: ROOMY, host: v.functions }));
      assert.ok(o.ok, JSON.stringify(!o.ok && o.error));
      const out = (await o.value.json()) as Record<string, unknown>;
      assert.deepEqual(out.upserted, { count: 3 });
      assert.equal((out.array as string[])[0].split(":")[0], "y");
      // pgvector keeps float4: the same embedding as numbers, Float32Array or a Float64Array view ranks and scores alike
      assert.deepEqual(out.f32, out.array);
      assert.deepEqual(out.f64, out.array);
      assert.deepEqual(out.view, out.array);
      assert.equal(out.mixed, `VECTOR_INVALID vector.search("p"): the query embedding must be a non-empty array of finite numbers`);
      assert.equal(out.nan, out.mixed);
      assert.equal(out.empty, out.mixed);
      assert.equal(out.dims, `VECTOR_DIMENSION vector.search("p"): the query embedding has 2 dimensions; collection "p" expects 3`);
      assert.equal(out.bytes, out.mixed);
      assert.match(String(out.item), /^VECTOR_INVALID vector\.upsert\("p"\): embedding for id "w" must be a non-empty array of finite numbers/);
      const { rows } = await t.db.query<{ e: string }>(`select embedding::text as e from hangar_vectors.${(await t.db.query<{ table_name: string }>("select table_name from hangar.vector_collections where scope = $1 and name = 'p'", [`packed-${threads}`])).rows[0].table_name} where id = 'y'`);
      assert.equal(rows[0].e, "[0,1,0.25]");
    } finally {
      await rt.close();
      await v.close();
    }
  });
}
