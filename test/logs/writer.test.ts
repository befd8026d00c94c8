// @both-backends
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Db } from "../../host/db/index.ts";
import { createLogWriter, dayOf, partitionName, partitionNames, rotateLogs } from "../../host/logs/index.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { gated, record } from "./helpers.ts";

const DAY = 86_400_000;
let t: TestDatabase;
let db: Db;
before(async () => {
  t = await createTestDatabase();
  db = t.db;
  await rotateLogs(db, { retentionDays: 7 });
});
after(() => t.close());

const count = async (where = "true", values: unknown[] = []) =>
  Number((await db.query<{ n: string }>(`select count(*) as n from hangar.invocations where ${where}`, values)).rows[0].n);

test(`${backend}: partitions are unlogged day tables for today and the next two days`, async () => {
  const { rows } = await db.query<{ relname: string; relpersistence: string }>(
    `select c.relname, c.relpersistence from pg_inherits i join pg_class c on c.oid = i.inhrelid
     where i.inhparent = 'hangar.invocations'::regclass order by c.relname`,
  );
  const today = dayOf(new Date());
  for (let i = 0; i < 3; i++) {
    const row = rows.find((r) => r.relname === partitionName(new Date(today.getTime() + i * DAY)));
    assert.ok(row, `partition for day +${i}`);
    assert.equal(row.relpersistence, "u");
  }
});

test(`${backend}: records land in batches with their console lines`, async () => {
  const w = createLogWriter({ db, batchSize: 50, flushMs: 20, nodeId: "n1" });
  const time = new Date();
  for (let i = 0; i < 120; i++) {
    w.record(record({ functionName: "batchy", requestId: `b-${i}`, logs: [{ level: "warn", message: `line ${i}`, time }, { level: "log", message: "second", time }] }));
  }
  await w.close();
  assert.deepEqual(w.stats(), { written: 120, dropped: 0, buffered: 0 });
  assert.equal(await count("function_name = 'batchy'"), 120);
  const { rows } = await db.query<{ logs: { level: string; message: string; time: string }[] }>(
    "select logs from hangar.invocations where request_id = 'b-7'",
  );
  assert.deepEqual(rows[0].logs, [
    { level: "warn", message: "line 7", time: time.toISOString() },
    { level: "log", message: "second", time: time.toISOString() },
  ]);
});

test(`${backend}: a failure keeps its message and stack; awkward text is stored`, async () => {
  const w = createLogWriter({ db, flushMs: 10 });
  w.record(record({ functionName: "fails", status: "GUEST_THREW", httpStatus: 500, error: { message: "boom", stack: "Error: boom\n    at handler (index.ts:3:11)" }, logs: [{ level: "error", message: "nul\u0000 and \ud800 lone", time: new Date() }] }));
  await w.close();
  const { rows } = await db.query<{ error_message: string; error_stack: string; logs: { message: string }[] }>(
    "select error_message, error_stack, logs from hangar.invocations where function_name = 'fails'",
  );
  assert.equal(rows[0].error_message, "boom");
  assert.match(rows[0].error_stack, /index\.ts:3:11/);
  assert.equal(rows[0].logs[0].message, "nul\ufffd and \ufffd lone");
});

test(`${backend}: a full buffer drops and counts, record() does not wait, and a warning is logged once`, async () => {
  const g = gated(db);
  const warnings: unknown[] = [];
  const logger = { debug() {}, info() {}, error() {}, warn: (msg: string, f?: unknown) => warnings.push({ msg, f }), child: () => logger };
  const w = createLogWriter({ db: g, logger, batchSize: 2, maxBuffer: 5, flushMs: 5 });
  g.block();
  const t0 = performance.now();
  for (let i = 0; i < 50; i++) w.record(record({ functionName: "dropper" }));
  assert.ok(performance.now() - t0 < 50, "record() returned without waiting on the database");
  const s = w.stats();
  assert.equal(s.dropped, 45);
  assert.equal(s.buffered + s.written, 5);
  assert.equal(warnings.length, 1);
  g.release();
  await w.close();
  assert.deepEqual(w.stats(), { written: 5, dropped: 45, buffered: 0 });
  assert.equal(await count("function_name = 'dropper'"), 5);
});

test(`${backend}: a write into a missing partition creates it and keeps the entries`, async () => {
  const old = new Date(Date.now() - 3 * DAY);
  const name = partitionName(dayOf(old));
  assert.ok(!(await partitionNames(db)).includes(name));
  const w = createLogWriter({ db, flushMs: 10 });
  w.record(record({ functionName: "late", startedAt: old }));
  w.record(record({ functionName: "late" }));
  await w.close();
  assert.deepEqual(w.stats(), { written: 2, dropped: 0, buffered: 0 });
  assert.ok((await partitionNames(db)).includes(name));
  assert.equal(await count("function_name = 'late'"), 2);
});

test(`${backend}: retention drops whole partitions, never deleting rows`, async () => {
  const old = new Date(Date.now() - 10 * DAY);
  const w = createLogWriter({ db, flushMs: 10 });
  w.record(record({ functionName: "ancient", startedAt: old }));
  w.record(record({ functionName: "recent" }));
  await w.close();
  const name = partitionName(dayOf(old));
  const { rows: [{ oid }] } = await db.query<{ oid: number }>("select $1::regclass::oid as oid", [`hangar.${name}`]);
  const g = gated(db);
  const r = await rotateLogs(g, { retentionDays: 7 });
  assert.ok(r.ran);
  assert.deepEqual(r.dropped, [name]);
  assert.equal((await db.query("select 1 from pg_class where oid = $1", [oid])).rowCount, 0, "the partition table is gone");
  assert.equal((await db.query("select 1 from pg_inherits where inhrelid = $1", [oid])).rowCount, 0);
  assert.ok(!g.texts.some((s) => /\bdelete\b/i.test(s)), "no DELETE was sent");
  assert.ok(g.texts.some((s) => new RegExp(`drop table hangar\\.${name}`).test(s)));
  assert.equal(await count("function_name = 'ancient'"), 0);
  assert.equal(await count("function_name = 'recent'"), 1);
  // Idempotent: a second rotation finds nothing to do.
  assert.deepEqual((await rotateLogs(db, { retentionDays: 7 })).dropped, []);
});

test(`${backend}: rotation under a held lock is skipped, not queued`, { skip: backend === "pglite" && "one session: the lock holder is the same backend" }, async () => {
  const { lockKey } = await import("../../host/db/lock-key.ts");
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const holder = db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock($1::int8)", [lockKey("hangar:logs-rotate")]);
    locked();
    await held;
  });
  await isLocked;
  const r = await rotateLogs(db, { retentionDays: 7 });
  release();
  await holder;
  assert.equal(r.ran, false);
});

test(`${backend}: close is safe twice and later records are dropped`, async () => {
  const w = createLogWriter({ db });
  w.record(record({ functionName: "closing" }));
  await Promise.all([w.close(), w.close()]);
  await w.close();
  w.record(record({ functionName: "closing" }));
  assert.deepEqual(w.stats(), { written: 1, dropped: 1, buffered: 0 });
});

test(`${backend}: each flush notifies hangar_logs`, async () => {
  const got: string[] = [];
  const unlisten = await db.listen("hangar_logs", (p) => got.push(p));
  try {
    const w = createLogWriter({ db, flushMs: 10, nodeId: "notifier" });
    w.record(record({ functionName: "notify-me" }));
    await w.close();
    const deadline = Date.now() + 20_000;
    while (!got.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const msg = JSON.parse(got[0]) as { node: string; count: number; seq: number };
    assert.equal(msg.node, "notifier");
    assert.equal(msg.count, 1);
    assert.ok(msg.seq > 0);
  } finally {
    await unlisten();
  }
});
