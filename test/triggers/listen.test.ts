// @both-backends
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Db } from "../../host/db/index.ts";
import { startNotifyListener } from "../../host/triggers/listen.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { activeFunction, callbackInvoker, sleep, waitFor } from "./helpers.ts";

let t: TestDatabase;
let db: Db;
before(async () => {
  t = await createTestDatabase();
  db = t.db;
});
after(() => t.close());

test(`${backend}: each notification is handled by one of two instances, in order; the other takes over on close`, async () => {
  const got: { node: string; payload: string }[] = [];
  const invokerFor = (node: string) =>
    callbackInvoker(db, { "chat-fn": async (req) => void got.push({ node, payload: (req.payload as { payload: string }).payload }) });
  let fns = [activeFunction("chat-fn", { listen: ["chat"] })];
  const opts = { leaseMs: 2000, renewMs: 200 };
  const a = await startNotifyListener({ db, invoker: invokerFor("a"), functions: () => fns, nodeId: "a", options: opts });
  const b = await startNotifyListener({ db, invoker: invokerFor("b"), functions: () => fns, nodeId: "b", options: opts });
  try {
    const sent: string[] = [];
    for (let i = 0; i < 40; i++) {
      // identical payloads in separate transactions are separate notifications
      const p = i % 10 === 0 ? "same" : `m${i}`;
      sent.push(p);
      await db.query("select pg_notify('chat', $1)", [p]);
    }
    await waitFor(() => got.length >= sent.length, 10_000, "notifications");
    await sleep(200);
    assert.deepEqual(got.map((g) => g.payload), sent, "each once, in order");
    const handler = got[0].node;
    assert.ok(got.every((g) => g.node === handler), "one lease holder handled them all");
    assert.equal(invokerFor("x").calls.length, 0);

    // The holder leaves: it gives up its lease, the other instance takes it at its next renewal.
    const [holder, other] = handler === "a" ? [a, b] : [b, a];
    await holder.close();
    await other.refresh();
    got.length = 0;
    await db.query("select pg_notify('chat', 'after')");
    await waitFor(() => got.length === 1, 5000, "takeover");
    assert.notEqual(got[0].node, handler);

    // The function stops listening: nothing more is handled.
    fns = [activeFunction("chat-fn", {})];
    await other.refresh();
    await db.query("select pg_notify('chat', 'ignored')");
    await sleep(300);
    assert.equal(got.length, 1);
    const leases = await db.query("select * from hangar.notify_leases");
    assert.equal(leases.rowCount, 0, "leases released");
  } finally {
    await Promise.all([a.close(), b.close(), a.close()]);
  }
});

test(`${backend}: the notify payload reaches the handler as { channel, payload }`, async () => {
  const seen: unknown[] = [];
  const inv = callbackInvoker(db, { "n-fn": async (req) => void seen.push([req.trigger, req.kind, req.payload]) });
  const l = await startNotifyListener({ db, invoker: inv, functions: () => [activeFunction("n-fn", { listen: ["jobs", "other"] })], nodeId: "n" });
  try {
    await db.query("select pg_notify('jobs', '{\"x\":1}')");
    await waitFor(() => seen.length === 1, 5000, "notification");
    assert.deepEqual(seen[0], ["notify", "notify", { channel: "jobs", payload: '{"x":1}' }]);
  } finally {
    await l.close();
  }
});

test(`${backend}: a refresh called while one is under way sees the functions as they are at the call`, async () => {
  let fns = [activeFunction("late-fn", { listen: ["late"] })];
  const l = await startNotifyListener({ db, invoker: callbackInvoker(db, {}), functions: () => fns, nodeId: "late", options: { renewMs: 60_000 } });
  try {
    const first = l.refresh(); // reads the functions now: late-fn still listens
    fns = [];
    await l.refresh();
    await first;
    const leases = await db.query("select * from hangar.notify_leases where node_id = 'late'");
    assert.equal(leases.rowCount, 0, "the second refresh ran after the change and released the lease");
  } finally {
    await l.close();
  }
});
