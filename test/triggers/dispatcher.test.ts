// @both-backends
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Db } from "../../host/db/index.ts";
import { eventOps } from "../../host/triggers/admin.ts";
import { startEventDispatcher, type EventDispatcher } from "../../host/triggers/dispatcher.ts";
import { syncTableTriggers } from "../../host/triggers/install.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { activeFunction, callbackInvoker, sleep, waitFor, type Handler } from "./helpers.ts";

let t: TestDatabase;
let db: Db;
before(async () => {
  t = await createTestDatabase();
  db = t.db;
});
after(() => t.close());

const fast = { pollMs: 50, backoffBaseMs: 20, maxBackoffMs: 200 };
const adminCtx = () => ({ db, config: {} as never, actor: "test" });

async function watch(fn: string, table: string, ops: ("insert" | "update" | "delete")[] = ["insert", "update", "delete"]) {
  await db.query(`create table if not exists ${table} (id int primary key, v text)`);
  await db.transaction((tx) => syncTableTriggers(tx, fn, [{ schema: "public", table, ops }]));
  return activeFunction(fn, { events: [{ schema: "public", table, ops }] });
}

async function statusOf(fn: string): Promise<Record<string, number>> {
  const { rows } = await db.query<{ status: string; n: number }>("select status, count(*)::int as n from hangar.events where function_name = $1 group by status", [fn]);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

test(`${backend}: an event is stored with its transaction; a rolled-back change leaves none`, async () => {
  await watch("tx-fn", "tx_t");
  await assert.rejects(
    db.transaction(async (tx) => {
      await tx.query("insert into tx_t values (1, 'gone')");
      throw new Error("roll back");
    }),
  );
  assert.equal((await db.query("select 1 from hangar.events where function_name = 'tx-fn'")).rowCount, 0);
  await db.transaction((tx) => tx.query("insert into tx_t values (2, 'kept')"));
  assert.equal((await db.query("select 1 from hangar.events where function_name = 'tx-fn'")).rowCount, 1);
});

test(`${backend}: the handler gets the change, payloads beyond NOTIFY's 8000 bytes intact`, async () => {
  const fn = await watch("big-fn", "big_t");
  const seen: unknown[] = [];
  const invoker = callbackInvoker(db, { "big-fn": async (req) => void seen.push(req.payload) });
  const d = await startEventDispatcher({ db, invoker, functions: () => [fn], nodeId: "n1", options: fast });
  try {
    const big = "x".repeat(100_000);
    await db.query("insert into big_t values (1, $1)", [big]);
    await db.query("update big_t set v = 'small' where id = 1");
    await waitFor(() => seen.length === 2, 15_000, "two events");
    const [ins, upd] = seen as Record<string, unknown>[];
    assert.equal(ins.op, "insert");
    assert.equal(ins.schema, "public");
    assert.equal(ins.table, "big_t");
    assert.equal(ins.attempt, 1);
    assert.equal(ins.old, null);
    assert.deepEqual(ins.new, { id: 1, v: big });
    assert.equal(typeof ins.id, "string");
    assert.deepEqual(upd.old, { id: 1, v: big });
    assert.deepEqual(upd.new, { id: 1, v: "small" });
    assert.equal(invoker.calls[0].trigger, "event");
    assert.equal(invoker.calls[0].kind, "event");
    await waitFor(async () => (await statusOf("big-fn")).done === 2, 5000, "done");
  } finally {
    await d.close();
  }
});

test(`${backend}: failures retry with backoff, dead-letter at the limit, and replay`, async () => {
  const fn = await watch("flaky-fn", "flaky_t");
  let fail = true;
  const attempts: number[] = [];
  const invoker = callbackInvoker(db, {
    "flaky-fn": async (req) => {
      attempts.push((req.payload as { attempt: number }).attempt);
      if (fail) throw new Error("boom");
    },
  });
  const d = await startEventDispatcher({ db, invoker, functions: () => [fn], nodeId: "n1", options: { ...fast, maxAttempts: 3 } });
  try {
    await db.query("insert into flaky_t values (1, 'a')");
    await waitFor(async () => (await statusOf("flaky-fn")).dead === 1, 15_000, "dead letter");
    assert.deepEqual(attempts, [1, 2, 3]);
    const { rows } = await db.query("select id::text as id, attempts, last_error, finished_at, run_after > created_at as backed_off from hangar.events where function_name = 'flaky-fn'");
    assert.equal(rows[0].attempts, 3);
    assert.match(String(rows[0].last_error), /boom/);
    assert.ok(rows[0].finished_at);
    const listed = (await eventOps["events.list"](adminCtx(), { status: "dead", function: "flaky-fn" })) as { events: { id: string; lastError: string }[] };
    assert.deepEqual(listed.events.map((e) => e.id), [rows[0].id]);
    assert.match(listed.events[0].lastError, /boom/);

    fail = false;
    await eventOps["events.replay"](adminCtx(), { id: rows[0].id });
    await waitFor(async () => (await statusOf("flaky-fn")).done === 1, 15_000, "replayed event done");
    assert.deepEqual(attempts, [1, 2, 3, 1], "replay starts from attempt 1");
    await assert.rejects(eventOps["events.replay"](adminCtx(), { id: "999999" }), /not found/);
    await assert.rejects(eventOps["events.list"](adminCtx(), { status: "bogus" }), /status must be one of/);
  } finally {
    await d.close();
  }
});

test(`${backend}: the retry delay grows between attempts`, async () => {
  const fn = await watch("slow-retry", "slow_retry_t");
  const at: number[] = [];
  const invoker = callbackInvoker(db, { "slow-retry": async () => { at.push(Date.now()); throw new Error("no"); } });
  const d = await startEventDispatcher({ db, invoker, functions: () => [fn], nodeId: "n1", options: { pollMs: 20, backoffBaseMs: 200, maxBackoffMs: 10_000, maxAttempts: 4 } });
  try {
    await db.query("insert into slow_retry_t values (1, 'a')");
    await waitFor(() => at.length === 4, 20_000, "four attempts");
    const gaps = at.slice(1).map((x, i) => x - at[i]);
    // base 200 ms doubling with jitter 0.5..1: >= 100, >= 200, >= 400
    assert.ok(gaps[0] >= 90 && gaps[1] >= 190 && gaps[2] >= 390, `gaps ${gaps}`);
    assert.ok(gaps[2] > gaps[0], `gaps ${gaps}`);
  } finally {
    await d.close();
  }
});

test(`${backend}: per-row order across two dispatchers; rows run in parallel`, async () => {
  const fn = await watch("order-fn", "order_t");
  const ROWS = 20;
  const UPDATES = 8;
  const seen = new Map<number, number[]>();
  const active = new Set<number>();
  let overlapSameRow = 0;
  let maxParallel = 0;
  const handler: Handler = async (req) => {
    const p = req.payload as { new: { id: number; v: string } | null; old: { id: number } | null };
    const id = (p.new ?? p.old)!.id;
    if (active.has(id)) overlapSameRow++;
    active.add(id);
    maxParallel = Math.max(maxParallel, active.size);
    await sleep(Math.random() * 8);
    const list = seen.get(id) ?? [];
    list.push(p.new ? Number(p.new.v) : -1);
    seen.set(id, list);
    active.delete(id);
  };
  const inv = callbackInvoker(db, { "order-fn": handler });
  const opts = { ...fast, concurrencyPerFunction: 6 };
  const d1 = await startEventDispatcher({ db, invoker: inv, functions: () => [fn], nodeId: "a", options: opts });
  const d2 = await startEventDispatcher({ db, invoker: inv, functions: () => [fn], nodeId: "b", options: opts });
  try {
    for (let i = 0; i < ROWS; i++) await db.query("insert into order_t values ($1, '0')", [i]);
    // Concurrent writers, each row's updates serialised by its row lock.
    await Promise.all(
      Array.from({ length: ROWS }, async (_, i) => {
        for (let u = 1; u <= UPDATES; u++) await db.query("update order_t set v = $2 where id = $1", [i, String(u)]);
      }),
    );
    await waitFor(async () => (await statusOf("order-fn")).done === ROWS * (UPDATES + 1), 60_000, "all events");
    for (let i = 0; i < ROWS; i++) assert.deepEqual(seen.get(i), Array.from({ length: UPDATES + 1 }, (_, u) => u), `row ${i} in commit order`);
    assert.equal(overlapSameRow, 0, "never two events of one row at once");
    assert.ok(maxParallel > 1, "different rows ran in parallel");
  } finally {
    await Promise.all([d1.close(), d2.close()]);
  }
});

test(`${backend}: events of undeployed or unsubscribed functions stay pending until it is back`, async () => {
  const fn = await watch("later-fn", "later_t");
  await db.query("insert into later_t values (1, 'a')");
  const handled: unknown[] = [];
  const inv = callbackInvoker(db, { "later-fn": async (r) => void handled.push(r.payload) });
  let fns = [activeFunction("other", {}), activeFunction("later-fn", { events: [{ schema: "public", table: "elsewhere", ops: ["insert"] }] })];
  const d = await startEventDispatcher({ db, invoker: inv, functions: () => fns, nodeId: "n1", options: fast });
  try {
    await sleep(300);
    assert.equal(handled.length, 0);
    assert.deepEqual(await statusOf("later-fn"), { pending: 1 });
    fns = [fn];
    d.wake();
    await waitFor(() => handled.length === 1, 5000, "handled once subscribed");
  } finally {
    await d.close();
  }
});

test(`${backend}: close waits for in-flight handlers and is safe twice`, async () => {
  const fn = await watch("drain-fn", "drain_t");
  let finished = false;
  let started = false;
  const inv = callbackInvoker(db, { "drain-fn": async () => { started = true; await sleep(300); finished = true; } });
  const d: EventDispatcher = await startEventDispatcher({ db, invoker: inv, functions: () => [fn], nodeId: "n1", options: fast });
  await db.query("insert into drain_t values (1, 'a')");
  await waitFor(() => started, 5000, "handler start");
  await Promise.all([d.close(), d.close()]);
  assert.ok(finished, "in-flight handler finished before close resolved");
  assert.deepEqual(await statusOf("drain-fn"), { done: 1 });
  await d.close();
});

test(`${backend}: a function's events run up to the event concurrency at once (16 by default), never past its limits.concurrency`, async () => {
  for (const [name, table, limit, want] of [["wide-fn", "wide_t", undefined, 16], ["narrow-fn", "narrow_t", 3, 3]] as const) {
    const fn = await watch(name, table, ["insert"]);
    if (limit) fn.config.limits = { concurrency: limit };
    let active = 0;
    let max = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const inv = callbackInvoker(db, {
      [name]: async () => {
        max = Math.max(max, ++active);
        await gate;
        active--;
      },
    });
    const d = await startEventDispatcher({ db, invoker: inv, functions: () => [fn], nodeId: "n1", options: fast });
    try {
      await db.query(`insert into ${table} select g, 'x' from generate_series(1, 40) g`);
      await waitFor(() => active === want, 15_000, `${want} handlers at once`);
      // The lane has claimed as many again to start next: none of them starts while every slot is busy.
      await waitFor(async () => (await statusOf(name)).running === 2 * want, 15_000, "the next ones claimed");
      assert.equal(active, want);
      release();
      await waitFor(async () => (await statusOf(name)).done === 40, 30_000, "all done");
      assert.equal(max, want);
    } finally {
      release();
      await d.close();
    }
  }
});
