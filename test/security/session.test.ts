// @both-backends
// Nothing a guest leaves on a database session reaches the next user of it:
// temporary tables, session advisory locks, settings. Guest roles cannot
// take advisory locks, NOTIFY or use large objects; pg_temp is searched last.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { checkStatement, createSqlBindings, type SqlBindingOptions } from "../../host/bindings/sql/index.ts";
import { validateConfig } from "../../host/build/index.ts";
import type { Db } from "../../host/db/index.ts";
import { PostgresDb } from "../../host/db/postgres.ts";
import type { HostCallInfo } from "../../runtime/types.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let t: TestDatabase;
/** One session only, so the next invocation surely gets the session the last one used. */
let one: Db;
const info: HostCallInfo = { requestId: "req-session", signal: new AbortController().signal };

before(async () => {
  t = await createTestDatabase();
  one = t.url ? new PostgresDb({ url: t.url, applicationName: "hangar-test-one", max: 1 }) : t.db;
  await t.db.query("create table shared_items (id serial primary key, body text)");
});
after(async () => {
  if (one !== t.db) await one.close();
  await t.close();
});

async function guest<T>(opts: Partial<SqlBindingOptions>, fn: (q: (text: string, params?: unknown[], tx?: string | null) => Promise<any>, call: (name: string, ...a: unknown[]) => Promise<any>) => Promise<T>): Promise<T> {
  const b = createSqlBindings({ db: one, ...opts });
  const call = (name: string, ...args: unknown[]) => b.functions[name](args, info);
  try {
    return await fn((text, params = [], tx = null) => call("sql.query", text, params, tx), call);
  } finally {
    await b.close();
  }
}

const tempExists = (q: (text: string) => Promise<any>, name: string) =>
  q(`select to_regclass('pg_temp.${name}') is not null as e`).then((r: { e: boolean }[]) => r[0].e);

test(`${backend}: a temporary table made by one invocation is gone for the next`, async () => {
  await guest({}, async (q) => {
    await q("create temp table shadow_a (x int)");
    await q("select 1 as x into temp table shadow_b");
  });
  await guest({}, async (q, call) => {
    assert.equal(await tempExists(q, "shadow_a"), false);
    assert.equal(await tempExists(q, "shadow_b"), false);
    const tx = await call("sql.begin");
    await q("create temp table shadow_c (x int)", [], tx);
    await call("sql.commit", tx);
  });
  await guest({}, async (q) => assert.equal(await tempExists(q, "shadow_c"), false));
});

test(`${backend}: pg_temp is searched last: a temp table cannot shadow a real one`, async () => {
  await guest({}, async (q, call) => {
    const tx = await call("sql.begin");
    await q("create temp table shared_items (id int, body text)", [], tx);
    await q("insert into shared_items (body) values ('real')", [], tx);
    const path = await q("select current_setting('search_path') as p", [], tx);
    assert.match(path[0].p, /pg_temp$/);
    await call("sql.commit", tx);
  });
  const { rows } = await t.db.query<{ body: string }>("select body from public.shared_items");
  assert.deepEqual(rows.map((r) => r.body), ["real"]);
});

test(`${backend}: guest roles cannot take advisory locks, notify, use large objects or seed random() for the next session`, async () => {
  await guest({}, async (q) => {
    for (const text of ["select pg_advisory_lock(42)", "select pg_try_advisory_lock(1, 2)", "select pg_advisory_xact_lock(42)", "select pg_notify('hangar_events', 'x')"]) {
      await assert.rejects(q(text), (e: any) => e.code === "42501", text);
    }
    for (const text of ["select lo_create(0)", "select lo_from_bytea(0, '\\x00')", 'select "lo_get"(1)', "select loread(0, 1)", "select setseed(0.5)", "select pg_catalog.setseed(0)"]) {
      await assert.rejects(q(text), (e: any) => e.code === "42501", text);
    }
    // A string that merely mentions it is fine.
    assert.deepEqual(await q("select 'lo_create(0)' as s"), [{ s: "lo_create(0)" }]);
  });
});

test(`${backend}: a session advisory lock a guest got anyway is released before the session is reused`, async () => {
  // As on a managed database where the migration could not revoke: grant it back.
  await t.db.query("grant execute on function pg_catalog.pg_advisory_lock(bigint) to hangar_guest");
  try {
    await guest({}, async (q) => {
      await q("select pg_advisory_lock(4242)");
    });
    await guest({}, async (call) => void call("select 1"));
    const { rows } = await one.query<{ n: number }>("select count(*)::int as n from pg_catalog.pg_locks where locktype = 'advisory' and objid = 4242");
    assert.equal(rows[0].n, 0);
  } finally {
    await t.db.query("revoke execute on function pg_catalog.pg_advisory_lock(bigint) from hangar_guest");
  }
});

test(`${backend}: a role that may call set_config gets DISCARD ALL after each use: its session settings never reach the next function`, async () => {
  // Such a role cannot take the one-round-trip reset (roles.ts: not session-safe).
  await t.db.query("do $$ begin create role hangar_test_lax nologin noinherit; exception when duplicate_object then null; end $$");
  await t.db.query("grant execute on function pg_catalog.set_config(text, text, boolean) to hangar_test_lax");
  try {
    await guest({ role: "hangar_test_lax" }, async (q) => {
      await q("select set_config('search_path', 'lax_schema, public', false)");
      await q("select set_config('work_mem', '1234kB', false)");
    });
    await guest({}, async (q) => {
      const [row] = await q("select current_setting('search_path') as sp, current_setting('work_mem') as wm");
      assert.doesNotMatch(row.sp, /lax_schema/);
      assert.notEqual(row.wm, "1234kB");
    });
  } finally {
    await t.db.query("revoke execute on function pg_catalog.set_config(text, text, boolean) from hangar_test_lax");
  }
});

test(`${backend}: inside a caller's transaction (exactly-once) the guest's temp tables are dropped before the caller commits`, async () => {
  await one.transaction(async (session) => {
    await guest({ session }, async (q) => {
      await q("create temp table shadow_x (x int)");
      assert.equal(await tempExists(q, "shadow_x"), true);
    });
    const { rows } = await session.query<{ e: boolean }>("select to_regclass('pg_temp.shadow_x') is not null as e", []);
    assert.equal(rows[0].e, false);
  });
});

test("the gate decides EXPLAIN from the statement it wraps", () => {
  for (const ok of ["explain select 1", "EXPLAIN ANALYZE select 1", "explain analyze verbose insert into t values (1)", "explain (analyze, buffers) delete from t", "explain (format json) with x as (select 1) select * from x"]) {
    assert.equal(checkStatement(ok).ok, true, ok);
  }
  for (const bad of [
    "explain analyze execute p",
    "EXPLAIN ANALYZE declare c cursor for select 1",
    "explain (analyze) create materialized view mv as select 1",
    "explain analyze /* x */ execute p(1)",
    "explain (analyze",
  ]) {
    assert.equal(checkStatement(bad).ok, false, bad);
  }
});

test("config.listen refuses Hangar's own hangar_* channels", () => {
  assert.throws(() => validateConfig("fn", { listen: ["hangar_events"] }), /config\.listen.*hangar_events.*reserved/);
  assert.throws(() => validateConfig("fn", { listen: ["HANGAR_registry"] }), /reserved/);
  assert.deepEqual(validateConfig("fn", { listen: ["chat"] }).listen, ["chat"]);
});
