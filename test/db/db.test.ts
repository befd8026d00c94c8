// @both-backends
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Db } from "../../host/db/index.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let t: TestDatabase;
let db: Db;
before(async () => {
  t = await createTestDatabase();
  db = t.db;
  await db.query("create table items (id int primary key, n int8, price numeric, at timestamptz, data bytea)");
});
after(() => t.close());

test(`${backend}: transactions commit and roll back`, async () => {
  await db.transaction((tx) => tx.query("insert into items (id) values (1)"));
  await assert.rejects(
    db.transaction(async (tx) => {
      await tx.query("insert into items (id) values (2)");
      throw new Error("boom");
    }),
    /boom/,
  );
  const { rows } = await db.query("select id from items order by id");
  assert.deepEqual(rows.map((r) => r.id), [1]);
});

test(`${backend}: concurrent transactions do not interleave`, async () => {
  await db.query("create table counter (n int)");
  await db.query("insert into counter values (0)");
  await Promise.all(
    Array.from({ length: 20 }, () =>
      db.transaction(async (tx) => {
        const { rows } = await tx.query<{ n: number }>("select n from counter for update");
        await new Promise((r) => setTimeout(r, 1));
        await tx.query("update counter set n = $1", [rows[0].n + 1]);
      }),
    ),
  );
  const { rows } = await db.query("select n from counter");
  assert.equal(rows[0].n, 20);
});

test(`${backend}: int8 and numeric arrive as strings, timestamptz as Date, bytea as bytes`, async () => {
  await db.query("insert into items values (10, 9007199254740993, 1.50, '2026-01-02T03:04:05Z', '\\x0102')");
  const { rows } = await db.query("select * from items where id = 10");
  assert.equal(rows[0].n, "9007199254740993");
  assert.equal(rows[0].price, "1.50");
  assert.ok(rows[0].at instanceof Date);
  assert.deepEqual([...(rows[0].data as Uint8Array)], [1, 2]);
});

test(`${backend}: LISTEN receives NOTIFY`, async () => {
  const got: string[] = [];
  const unlisten = await db.listen("hangar_test", (p) => got.push(p));
  await db.query("select pg_notify('hangar_test', 'hello')");
  for (let i = 0; i < 1000 && !got.length; i++) await new Promise((r) => setTimeout(r, 20));
  await unlisten();
  assert.deepEqual(got, ["hello"]);
});

test(`${backend}: pgvector is available`, async () => {
  const { rows } = await db.query("select '[1,0]'::vector <=> '[0,1]'::vector as d");
  assert.equal(rows[0].d, 1);
});

test(`${backend}: close is safe to call twice`, async () => {
  const other = await createTestDatabase();
  await other.db.close();
  await other.db.close();
  await other.close();
});

test(`${backend}: versions' bundle and source map are lz4-compressed where the server has lz4 (migration 0012)`, async () => {
  const { rows } = await db.query<{ attname: string; attcompression: string }>(
    "select attname, attcompression::text from pg_catalog.pg_attribute where attrelid = 'hangar.versions'::regclass and attname in ('bundle', 'source_map') order by attname",
  );
  // whether the server has lz4: whether a column may be declared with it
  const lz4 = await db
    .transaction(async (tx) => {
      await tx.query("create temporary table lz4_probe (v text compression lz4) on commit drop");
      return true;
    })
    .catch(() => false);
  assert.deepEqual(rows, [
    { attname: "bundle", attcompression: lz4 ? "l" : "" },
    { attname: "source_map", attcompression: lz4 ? "l" : "" },
  ]);
  if (backend === "postgres") assert.ok(lz4, "the test cluster's PostgreSQL has lz4");
  // a bundle goes in and comes out whole either way
  const big = "x".repeat(200_000) + "y";
  const { rows: fn } = await db.query<{ name: string }>("insert into hangar.functions (name) values ('lz4-fn') returning name");
  await db.query("insert into hangar.versions (function_name, version, hash, bundle, source_map, config, deployed_by) values ($1, 1, 'h', $2, $2, '{}', 't')", [fn[0].name, big]);
  const { rows: back } = await db.query<{ bundle: string }>("select bundle from hangar.versions where function_name = 'lz4-fn'");
  assert.equal(back[0].bundle, big);
});
