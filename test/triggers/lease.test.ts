// @both-backends
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Db } from "../../host/db/index.ts";
import { startEventDispatcher } from "../../host/triggers/dispatcher.ts";
import { syncTableTriggers } from "../../host/triggers/install.ts";
import { backoffMs, claimEvents, completeEvent, failClaimed } from "../../host/triggers/queue.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { activeFunction, callbackInvoker, sleep, waitFor } from "./helpers.ts";

let t: TestDatabase;
let db: Db;
before(async () => {
  t = await createTestDatabase();
  db = t.db;
  await db.query("create table lease_t (id int primary key, v text)");
  await db.transaction((tx) => syncTableTriggers(tx, "lease-fn", [{ schema: "public", table: "lease_t", ops: ["insert", "update"] }]));
});
after(() => t.close());

const claim = (nodeId: string, leaseMs: number, limit = 10) =>
  claimEvents(db, { functionName: "lease-fn", tables: ["public.lease_t"], limit, leaseMs, nodeId });

test(`${backend}: a claim holds its lease; an expired lease makes the event claimable again`, async () => {
  await db.query("insert into lease_t values (1, 'a')");
  // Long enough for a cold PGlite to run the next statement within it.
  const [first] = await claim("dead-node", 1500);
  assert.equal(first.attempts, 1);
  assert.deepEqual(await claim("other", 1500), [], "leased to dead-node");
  const row = await db.query("select status, locked_by, lease_until > now() as live from hangar.events where id = $1", [first.id]);
  assert.deepEqual(row.rows[0], { status: "running", locked_by: "dead-node", live: true });
  await sleep(1600);
  const [again] = await claim("other", 60_000);
  assert.equal(again.id, first.id);
  assert.equal(again.attempts, 2);
  assert.equal(await completeEvent(db, first, "dead-node"), false, "the lost claim cannot complete it");
  assert.equal(await completeEvent(db, again, "other"), true);
});

test(`${backend}: only the oldest unfinished event of a row is claimable`, async () => {
  await db.query("insert into lease_t values (2, 'a')");
  await db.query("update lease_t set v = 'b' where id = 2");
  await db.query("insert into lease_t values (3, 'a')");
  const batch = await claim("n", 60_000);
  assert.deepEqual(batch.map((e) => (e.new as { id: number }).id), [2, 3], "row 2's update waits for its insert");
  const failed = await failClaimed(db, batch[0], "n", { error: "x", maxAttempts: 5, retryInMs: 60_000 });
  assert.equal(failed, "pending");
  assert.deepEqual(await claim("n", 60_000), [], "a retry waiting for its backoff still holds back its row");
  await db.query("update hangar.events set run_after = now() where id = $1", [batch[0].id]);
  const next = await claim("n", 60_000);
  assert.deepEqual(next.map((e) => e.id), [batch[0].id]);
  await completeEvent(db, next[0], "n");
  const last = await claim("n", 60_000);
  assert.equal(last[0].op, "update");
  await completeEvent(db, last[0], "n");
  await completeEvent(db, batch[1], "n");
});

test(`${backend}: a dispatcher picks up an event whose instance died; repeated deaths dead-letter it`, async () => {
  await db.query("insert into lease_t values (10, 'a')");
  const [orphan] = await claim("crashed", 200);
  assert.ok(orphan);
  const fn = activeFunction("lease-fn", { events: [{ schema: "public", table: "lease_t", ops: ["insert", "update"] }] });
  const handled: number[] = [];
  const inv = callbackInvoker(db, { "lease-fn": async (r) => void handled.push((r.payload as { attempt: number }).attempt) });
  const d = await startEventDispatcher({ db, invoker: inv, functions: () => [fn], nodeId: "live", options: { pollMs: 50, leaseMs: 200 } });
  try {
    await waitFor(() => handled.length === 1, 10_000, "takeover");
    assert.deepEqual(handled, [2], "second attempt, on the live node");
    // the completion is written with the lane's next claim, a moment after the handler returns
    await waitFor(async () => (await db.query("select 1 from hangar.events where id = $1 and status = 'done'", [orphan.id])).rowCount === 1, 10_000, "done");
    const { rows } = await db.query("select status, locked_by from hangar.events where id = $1", [orphan.id]);
    assert.deepEqual(rows[0], { status: "done", locked_by: "live" });
  } finally {
    await d.close();
  }

  // An event that kills every instance that takes it: after maxAttempts expired leases it is dead.
  await db.query("insert into lease_t values (11, 'poison')");
  for (let i = 0; i < 3; i++) {
    const [c] = await claim("crashed", 50);
    assert.equal(c.attempts, i + 1);
    await sleep(80);
  }
  const d2 = await startEventDispatcher({ db, invoker: inv, functions: () => [fn], nodeId: "live", options: { pollMs: 50, leaseMs: 200, maxAttempts: 3 } });
  try {
    await waitFor(async () => (await db.query("select 1 from hangar.events where status = 'dead'")).rowCount === 1, 10_000, "dead letter");
    const { rows } = await db.query("select last_error from hangar.events where status = 'dead'");
    assert.match(String(rows[0].last_error), /lease expired/);
    assert.equal(handled.length, 1, "the poison event was not run again");
  } finally {
    await d2.close();
  }
});

test("backoff doubles from the base, is capped, and jitters between half and full", () => {
  assert.equal(backoffMs(1, 1000, 60_000, () => 1), 1000);
  assert.equal(backoffMs(3, 1000, 60_000, () => 1), 4000);
  assert.equal(backoffMs(3, 1000, 60_000, () => 0), 2000);
  assert.equal(backoffMs(30, 1000, 60_000, () => 1), 60_000);
});
