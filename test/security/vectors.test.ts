// @both-backends
// Vector collections belong to the function that made them unless it names
// a shared namespace ("shared:<name>"); vector SQL on their rows runs as the
// function's role, and a function's raw SQL sees no collection's rows.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createSqlBindings } from "../../host/bindings/sql/index.ts";
import { createVectorBindings } from "../../host/bindings/vector/index.ts";
import type { HostCallInfo } from "../../runtime/types.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let t: TestDatabase;
const info: HostCallInfo = { requestId: "req-vec", signal: new AbortController().signal };
const role = `hsec_vec_${Math.random().toString(36).slice(2, 8)}`;

before(async () => {
  t = await createTestDatabase();
  await t.db.query(`create role ${role} nologin`);
});
after(async () => {
  await t.db.query(`drop owned by ${role}`).catch(() => {});
  await t.db.query(`drop role if exists ${role}`).catch(() => {});
  await t.close();
});

async function as<T>(fnName: string, fn: (call: (name: string, ...args: unknown[]) => Promise<any>) => Promise<T>, extra: { role?: string; allowedRoles?: string[] } = {}): Promise<T> {
  const v = createVectorBindings({ db: t.db, fnName, ...extra });
  try {
    return await fn((name, ...args) => v.functions[name](args, info));
  } finally {
    await v.close();
  }
}

test(`${backend}: one function cannot read, overwrite or delete another's collection of the same name`, async () => {
  await as("fn-a", (call) => call("vector.upsert", "docs", [{ id: "secret", embedding: [1, 0, 0], content: "a's data" }]));
  await as("fn-b", async (call) => {
    assert.deepEqual(await call("vector.search", "docs", [1, 0, 0], { k: 5 }), []);
    assert.deepEqual(await call("vector.remove", "docs", ["secret"]), { count: 0 });
    // Its own "docs", with another dimension: a different collection.
    await call("vector.upsert", "docs", [{ id: "b1", embedding: [1, 0] }]);
    assert.deepEqual((await call("vector.search", "docs", [1, 0])).map((h: any) => h.id), ["b1"]);
  });
  const hits = await as("fn-a", (call) => call("vector.search", "docs", [1, 0, 0]));
  assert.deepEqual(hits.map((h: any) => h.content), ["a's data"]);
});

test(`${backend}: a shared namespace is shared only when named`, async () => {
  await as("fn-a", (call) => call("vector.upsert", "shared:kb", [{ id: "k1", embedding: [0, 1] }]));
  assert.deepEqual((await as("fn-b", (call) => call("vector.search", "shared:kb", [0, 1]))).map((h: any) => h.id), ["k1"]);
  assert.deepEqual(await as("fn-b", (call) => call("vector.search", "kb", [0, 1])), []);
});

test(`${backend}: a function's raw SQL sees no collection's rows, even one its role was granted`, async () => {
  const { rows } = await t.db.query<{ t: string }>("select table_name as t from hangar.vector_collections where scope = 'fn-a' and name = 'docs'");
  const b = createSqlBindings({ db: t.db });
  try {
    const q = (text: string) => b.functions["sql.query"]([text, []], info) as Promise<any[]>;
    assert.deepEqual(await q(`select count(*)::int as n from hangar_vectors.${rows[0].t}`), [{ n: 0 }]);
    assert.deepEqual(await q(`delete from hangar_vectors.${rows[0].t} returning id`), []);
    await assert.rejects(q(`insert into hangar_vectors.${rows[0].t} (id, embedding) values ('x', '[1,0,0]')`), (e: any) => e.code === "42501");
    await assert.rejects(q(`truncate hangar_vectors.${rows[0].t}`), (e: any) => e.code === "42501");
  } finally {
    await b.close();
  }
  const still = await as("fn-a", (call) => call("vector.search", "docs", [1, 0, 0]));
  assert.equal(still.length, 1);
});

test(`${backend}: vector SQL runs as the function's role, and a privileged role is refused`, async () => {
  await as("fn-r", (call) => call("vector.upsert", "mine", [{ id: "r1", embedding: [1, 1] }]), { role, allowedRoles: [role] });
  const { rows } = await t.db.query<{ ok: boolean }>(
    `select pg_catalog.has_table_privilege($1, ('hangar_vectors.' || table_name)::regclass, 'SELECT') as ok
       from hangar.vector_collections where scope = 'fn-r' and name = 'mine'`,
    [role],
  );
  assert.deepEqual(rows, [{ ok: true }]);
  await assert.rejects(
    as("fn-r", (call) => call("vector.search", "mine", [1, 1]), { role: "postgres", allowedRoles: ["postgres"] }),
    (e: any) => e.code === "42501" && /host's own role|superuser/.test(e.message),
  );
  await assert.rejects(as("fn-r", (call) => call("vector.search", "mine", [1, 1]), { role, allowedRoles: ["hangar_guest"] }), /not in HANGAR_FUNCTION_ROLES/);
});
