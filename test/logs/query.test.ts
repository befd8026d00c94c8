// @both-backends
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Db } from "../../host/db/index.ts";
import { logOps } from "../../host/logs/admin.ts";
import { createLogWriter, parseSince, rotateLogs, type LogQueryResult } from "../../host/logs/index.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { record } from "./helpers.ts";

let t: TestDatabase;
let db: Db;
const MIN = 60_000;
before(async () => {
  t = await createTestDatabase();
  db = t.db;
  await rotateLogs(db, { retentionDays: 7 });
  const w = createLogWriter({ db, flushMs: 10 });
  const now = Date.now();
  w.record(record({ functionName: "alpha", requestId: "a-old", startedAt: new Date(now - 30 * MIN), logs: [{ level: "log", message: "old", time: new Date(now - 30 * MIN) }] }));
  w.record(record({ functionName: "alpha", requestId: "a-1", startedAt: new Date(now - 2 * MIN), logs: [{ level: "info", message: "hi", time: new Date() }] }));
  w.record(record({ functionName: "beta", requestId: "b-1", trigger: "cron", startedAt: new Date(now - MIN), status: "GUEST_THREW", httpStatus: 500, error: { message: "nope", stack: "Error: nope\n    at run (nightly.ts:4:9)" } }));
  w.record(record({ functionName: "alpha", requestId: "a-2", trigger: "event", startedAt: new Date(now - 1000) }));
  await w.close();
});
after(() => t.close());

const query = (args: Record<string, unknown>) => logOps["logs.query"]({ db, config: {} as never, actor: "test" }, args) as Promise<LogQueryResult>;

test(`${backend}: parseSince takes durations and ISO times`, () => {
  const now = new Date("2025-01-10T12:00:00Z");
  assert.equal(parseSince("10m", now).toISOString(), "2025-01-10T11:50:00.000Z");
  assert.equal(parseSince("2h", now).toISOString(), "2025-01-10T10:00:00.000Z");
  assert.equal(parseSince("1d", now).toISOString(), "2025-01-09T12:00:00.000Z");
  assert.equal(parseSince("2025-01-01T00:00:00Z", now).toISOString(), "2025-01-01T00:00:00.000Z");
  assert.throws(() => parseSince("yesterday", now), /since must be/);
});

test(`${backend}: logs.query returns invocations oldest first with their console lines`, async () => {
  const r = await query({});
  assert.deepEqual(r.invocations.map((e) => e.requestId), ["a-old", "a-1", "b-1", "a-2"]);
  assert.deepEqual(r.invocations[1].logs.map((l) => [l.level, l.message]), [["info", "hi"]]);
  assert.deepEqual(r.invocations[2].error, { message: "nope", stack: "Error: nope\n    at run (nightly.ts:4:9)" });
  assert.equal(r.invocations[2].trigger, "cron");
  assert.match(r.cursor, /^\d+$/);
});

test(`${backend}: logs.query filters by name, since, status and limit`, async () => {
  assert.deepEqual((await query({ name: "alpha" })).invocations.map((e) => e.requestId), ["a-old", "a-1", "a-2"]);
  assert.deepEqual((await query({ name: "alpha", since: "10m" })).invocations.map((e) => e.requestId), ["a-1", "a-2"]);
  assert.deepEqual((await query({ status: "GUEST_THREW" })).invocations.map((e) => e.requestId), ["b-1"]);
  // The newest `limit`, still oldest first.
  assert.deepEqual((await query({ limit: 2 })).invocations.map((e) => e.requestId), ["b-1", "a-2"]);
  await assert.rejects(query({ limit: 0 }), /limit must be/);
  await assert.rejects(query({ after: "x; drop" }), /after must be a cursor/);
});

test(`${backend}: the cursor returns only what was written after it, in write order`, async () => {
  const first = await query({ name: "gamma" });
  assert.deepEqual(first.invocations, []);
  const empty = await query({ after: first.cursor });
  assert.deepEqual(empty.invocations, []);
  assert.equal(empty.cursor, first.cursor);
  const w = createLogWriter({ db, flushMs: 10 });
  // Started long ago but written now: a slow invocation still shows up when following.
  w.record(record({ functionName: "gamma", requestId: "g-slow", startedAt: new Date(Date.now() - 5 * MIN) }));
  w.record(record({ functionName: "delta", requestId: "d-1" }));
  w.record(record({ functionName: "gamma", requestId: "g-2" }));
  await w.close();
  const next = await query({ name: "gamma", after: first.cursor });
  assert.deepEqual(next.invocations.map((e) => e.requestId), ["g-slow", "g-2"]);
  assert.deepEqual((await query({ name: "gamma", after: next.cursor })).invocations, []);
  // Paging with limit moves the cursor one page at a time.
  const p1 = await query({ after: first.cursor, limit: 2 });
  assert.deepEqual(p1.invocations.map((e) => e.requestId), ["g-slow", "d-1"]);
  const p2 = await query({ after: p1.cursor, limit: 2 });
  assert.deepEqual(p2.invocations.map((e) => e.requestId), ["g-2"]);
});
