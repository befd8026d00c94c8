// @both-backends
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import type { Db } from "../../host/db/index.ts";
import { startEventDispatcher } from "../../host/triggers/dispatcher.ts";
import { syncTableTriggers } from "../../host/triggers/install.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { activeFunction, callbackInvoker, sleep, waitFor } from "./helpers.ts";

let t: TestDatabase;
let db: Db;
before(async () => {
  t = await createTestDatabase();
  db = t.db;
  await db.query("create table src (id int primary key, v text)");
  await db.query("create table effects (event_id text, row_id int, attempt int)");
});
after(() => t.close());

async function exactlyOnce(name: string, table: string) {
  await db.query(`create table if not exists ${table} (id int primary key, v text)`);
  await db.transaction((tx) => syncTableTriggers(tx, name, [{ schema: "public", table, ops: ["insert"] }]));
  return activeFunction(name, { events: [{ schema: "public", table, ops: ["insert"] }], delivery: "exactly-once" });
}

test(`${backend}: a failed attempt's SQL rolls back with its claim; the successful one commits once`, async () => {
  const fn = await exactlyOnce("eo-fn", "src");
  const inv = callbackInvoker(db, {
    "eo-fn": async ({ sql, payload, sqlSession }) => {
      assert.ok(sqlSession, "exactly-once hands the claim transaction to the guest");
      const p = payload as { id: string; attempt: number; new: { id: number } };
      await sql.query("insert into effects values ($1, $2, $3)", [p.id, p.new.id, p.attempt]);
      if (p.attempt < 3) throw new Error(`fail ${p.attempt}`);
    },
  });
  const d = await startEventDispatcher({ db, invoker: inv, functions: () => [fn], nodeId: "n1", options: { pollMs: 50, backoffBaseMs: 10, maxBackoffMs: 50 } });
  try {
    await db.query("insert into src values (1, 'a')");
    await waitFor(async () => (await db.query("select 1 from hangar.events where function_name = 'eo-fn' and status = 'done'")).rowCount === 1, 10_000, "done");
    const { rows } = await db.query("select row_id, attempt from effects");
    assert.deepEqual(rows, [{ row_id: 1, attempt: 3 }], "only the committed attempt's write exists");
    const ev = await db.query("select attempts, last_error from hangar.events where function_name = 'eo-fn'");
    assert.equal(ev.rows[0].attempts, 3, "failed attempts were counted outside the rolled-back transaction");
    assert.match(String(ev.rows[0].last_error), /fail 2/);
  } finally {
    await d.close();
  }
});

test(`${backend}: exactly-once dead-letters after max attempts with no effects`, async () => {
  const fn = await exactlyOnce("eo-dead", "src_dead");
  const inv = callbackInvoker(db, {
    "eo-dead": async ({ sql, payload }) => {
      await sql.query("insert into effects values ($1, -1, 0)", [(payload as { id: string }).id]);
      throw new Error("always");
    },
  });
  const d = await startEventDispatcher({ db, invoker: inv, functions: () => [fn], nodeId: "n1", options: { pollMs: 50, backoffBaseMs: 10, maxBackoffMs: 50, maxAttempts: 2 } });
  try {
    await db.query("insert into src_dead values (1, 'a')");
    await waitFor(async () => (await db.query("select 1 from hangar.events where function_name = 'eo-dead' and status = 'dead'")).rowCount === 1, 10_000, "dead");
    assert.equal((await db.query("select 1 from effects where row_id = -1")).rowCount, 0);
    assert.equal(inv.calls.length, 2);
  } finally {
    await d.close();
  }
});

test(`${backend}: two dispatchers, many events: every effect applied exactly once`, async () => {
  const fn = await exactlyOnce("eo-many", "src_many");
  const handler = callbackInvoker(db, {
    "eo-many": async ({ sql, payload }) => {
      const p = payload as { id: string; attempt: number; new: { id: number } };
      await sql.query("insert into effects values ($1, $2, $3)", [p.id, p.new.id, p.attempt]);
      await sleep(Math.random() * 3);
      // a sprinkling of failures after the write: those writes must vanish
      if (p.new.id % 7 === 0 && p.attempt === 1) throw new Error("transient");
    },
  });
  const opts = { pollMs: 50, backoffBaseMs: 10, maxBackoffMs: 50, concurrencyPerFunction: 4 };
  const d1 = await startEventDispatcher({ db, invoker: handler, functions: () => [fn], nodeId: "a", options: opts });
  const d2 = await startEventDispatcher({ db, invoker: handler, functions: () => [fn], nodeId: "b", options: opts });
  const N = 200;
  try {
    await db.query("insert into src_many select g, 'x' from generate_series(1, $1::int) g", [N]);
    await waitFor(async () => (await db.query("select 1 from hangar.events where function_name = 'eo-many' and status = 'done'")).rowCount === N, 60_000, "all done");
    const { rows } = await db.query("select count(*)::int as n, count(distinct row_id)::int as d from effects where row_id > 0 and event_id in (select id::text from hangar.events where function_name = 'eo-many')");
    assert.deepEqual(rows[0], { n: N, d: N });
  } finally {
    await Promise.all([d1.close(), d2.close()]);
  }
});

test(`${backend === "postgres" ? "postgres" : "pglite (skipped)"}: a session killed mid-handler applies nothing; the event runs once elsewhere`, { skip: backend !== "postgres" }, async () => {
  const fn = await exactlyOnce("eo-kill", "src_kill");
  let hang = true;
  let entered = false;
  const inv = callbackInvoker(db, {
    "eo-kill": async ({ sql, payload }) => {
      const p = payload as { id: string; attempt: number };
      await sql.query("insert into effects values ($1, 99, $2)", [p.id, p.attempt]);
      if (hang) {
        entered = true;
        // The instance "dies": its session is terminated while the handler runs.
        await sql.query("select pg_sleep(30)");
      }
    },
  });
  const d = await startEventDispatcher({ db, invoker: inv, functions: () => [fn], nodeId: "victim", options: { pollMs: 50, backoffBaseMs: 10 } });
  const admin = new pg.Client({ connectionString: t.url! });
  await admin.connect();
  try {
    await db.query("insert into src_kill values (1, 'a')");
    await waitFor(() => entered, 10_000, "handler running");
    await sleep(100);
    hang = false;
    const k = await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query like '%pg_sleep(30)%' and pid <> pg_backend_pid()");
    assert.equal(k.rowCount, 1);
    await waitFor(async () => (await db.query("select 1 from hangar.events where function_name = 'eo-kill' and status = 'done'")).rowCount === 1, 10_000, "done after the kill");
    const { rows } = await admin.query(
      "select count(*)::int as n from effects where row_id = 99 and event_id in (select id::text from hangar.events where function_name = 'eo-kill')",
    );
    assert.equal(rows[0].n, 1, "the killed attempt's write rolled back; the retry's committed once");
  } finally {
    await admin.end();
    await d.close();
  }
});
