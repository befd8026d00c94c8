// @both-backends
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { FunctionConfig } from "../../host/build/index.ts";
import { manualClock, startScheduler } from "../../host/cron/index.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { callbackInvoker, cursorOf, fn, ledger, waitFor } from "./harness.ts";

let t: TestDatabase;
before(async () => (t = await createTestDatabase()));
after(() => t.close());

const hhmm = (d: Date | number) => new Date(d).toISOString().slice(11, 16);

/**
 * Deploy a per-minute schedule at 10:00:30 (one instance sees it, then the
 * fleet is down), bring an instance back at 10:10:30 with catchUpCap 3, then
 * let 10:11 pass normally.
 */
async function outage(name: string, catchUp: FunctionConfig["catchUp"]) {
  const clock = manualClock(new Date("2026-05-01T10:00:30.000Z"));
  const { invoker, callsOf } = callbackInvoker();
  const functions = [fn(name, { schedule: "* * * * *", catchUp })];
  const opts = { tickMs: 5, catchUpCap: 3 };
  const first = await startScheduler({ db: t.db, invoker, functions: () => functions, nodeId: "first", clock, options: opts });
  await waitFor("first sight", () => cursorOf(t.db, name));
  await first.close();
  assert.equal((await cursorOf(t.db, name))?.toISOString(), "2026-05-01T10:00:30.000Z", "a new schedule starts when it is first seen");

  clock.set(new Date("2026-05-01T10:10:30.000Z"));
  const second = await startScheduler({ db: t.db, invoker, functions: () => functions, nodeId: "second", clock, options: opts });
  try {
    await waitFor("catch-up decided", async () => (await cursorOf(t.db, name))?.toISOString() === "2026-05-01T10:10:00.000Z");
    await waitFor("catch-up runs finished", async () => !(await ledger(t.db, name)).some((r) => r.status === "queued" || r.status === "running"));
    const caughtUp = callsOf(name).map((c) => hhmm(c.scheduledTime));
    clock.set(new Date("2026-05-01T10:11:00.100Z"));
    await waitFor("the on-time run", () => callsOf(name).some((c) => hhmm(c.scheduledTime) === "10:11"));
    await waitFor("it finished", async () => (await ledger(t.db, name)).some((r) => hhmm(r.scheduled_at) === "10:11" && r.status === "succeeded"));
    const rows = await ledger(t.db, name);
    return { caughtUp, rows: rows.map((r) => `${hhmm(r.scheduled_at)} ${r.status}${r.catch_up ? " late" : ""}`) };
  } finally {
    await second.close();
  }
}

test(`${backend}: catchUp none runs nothing that was missed (the last 'cap' are recorded as missed)`, async () => {
  const r = await outage("cu-none", "none");
  assert.deepEqual(r.caughtUp, []);
  assert.deepEqual(r.rows, ["10:08 missed late", "10:09 missed late", "10:10 missed late", "10:11 succeeded"]);
});

test(`${backend}: catchUp latest runs only the most recent missed occurrence`, async () => {
  const r = await outage("cu-latest", "latest");
  assert.deepEqual(r.caughtUp, ["10:10"]);
  assert.deepEqual(r.rows, ["10:07 missed late", "10:08 missed late", "10:09 missed late", "10:10 succeeded late", "10:11 succeeded"]);
});

test(`${backend}: catchUp all runs missed occurrences oldest first, up to the cap`, async () => {
  const r = await outage("cu-all", "all");
  assert.deepEqual(r.caughtUp, ["10:08", "10:09", "10:10"]);
  assert.deepEqual(r.rows, [
    "10:05 missed late", "10:06 missed late", "10:07 missed late",
    "10:08 succeeded late", "10:09 succeeded late", "10:10 succeeded late", "10:11 succeeded",
  ]);
});

test(`${backend}: a changed schedule starts from the change, not from history; a removed one stops`, async () => {
  const clock = manualClock(new Date("2026-05-02T00:00:00.500Z"));
  const { invoker, callsOf } = callbackInvoker();
  let functions = [fn("moving", { schedule: "0 * * * *", catchUp: "all" })];
  const s = await startScheduler({ db: t.db, invoker, functions: () => functions, nodeId: "n", clock, options: { tickMs: 5 } });
  try {
    await waitFor("first sight", () => cursorOf(t.db, "moving"));
    clock.set(new Date("2026-05-02T00:30:00.000Z"));
    functions = [fn("moving", { schedule: "* * * * *", catchUp: "all" })];
    s.refresh();
    await waitFor("the reset", async () => (await cursorOf(t.db, "moving"))?.toISOString() === "2026-05-02T00:30:00.000Z");
    clock.set(new Date("2026-05-02T00:31:00.000Z"));
    await waitFor("a run on the new schedule", async () => (await ledger(t.db, "moving")).some((r) => r.status === "succeeded"));
    functions = [];
    s.refresh();
    clock.set(new Date("2026-05-02T00:40:00.000Z"));
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    await s.close();
  }
  assert.deepEqual(callsOf("moving").map((c) => [hhmm(c.scheduledTime), c.cron]), [["00:31", "* * * * *"]]);
});
