// @both-backends
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { manualClock, startScheduler } from "../../host/cron/index.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { callbackInvoker, cursorOf, fn, ledger, waitFor } from "./harness.ts";

let t: TestDatabase;
before(async () => (t = await createTestDatabase()));
after(() => t.close());

const sec = (d: Date | number) => new Date(d).toISOString().slice(17, 19);

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

test(`${backend}: overlap skip records the skip with its reason; overlap allow runs concurrently`, async () => {
  const clock = manualClock(new Date("2026-07-01T08:00:00.500Z"));
  const g = gate();
  const { invoker, callsOf } = callbackInvoker({ "ov-skip": () => g.opened, "ov-allow": () => g.opened });
  const functions = [
    fn("ov-skip", { schedule: "* * * * * *", overlap: "skip" }),
    fn("ov-allow", { schedule: "* * * * * *", overlap: "allow" }),
  ];
  const s = await startScheduler({ db: t.db, invoker, functions: () => functions, nodeId: "n1", clock, options: { tickMs: 5 } });
  try {
    await waitFor("first sight", async () => (await cursorOf(t.db, "ov-skip")) && (await cursorOf(t.db, "ov-allow")));
    clock.set(new Date("2026-07-01T08:00:01.000Z"));
    await waitFor(":01 running", () => callsOf("ov-skip").length === 1 && callsOf("ov-allow").length === 1);
    clock.set(new Date("2026-07-01T08:00:02.000Z"));
    await waitFor(":02 decided", async () => (await ledger(t.db, "ov-skip")).length === 2 && callsOf("ov-allow").length === 2);
    const [first, second] = await ledger(t.db, "ov-skip");
    assert.equal(first.status, "running");
    assert.equal(second.status, "skipped");
    assert.match(second.reason ?? "", new RegExp(`overlap: previous run ${first.run_id} \\(scheduled 2026-07-01T08:00:01.000Z\\) still running on node n1`));
    g.open();
    await waitFor(":01 done", async () => (await ledger(t.db, "ov-skip"))[0].status === "succeeded");
    clock.set(new Date("2026-07-01T08:00:03.000Z"));
    await waitFor(":03 done", async () => (await ledger(t.db, "ov-skip"))[2]?.status === "succeeded" && (await ledger(t.db, "ov-allow"))[2]?.status === "succeeded");
  } finally {
    g.open();
    await s.close();
  }
  assert.deepEqual(callsOf("ov-skip").map((c) => sec(c.scheduledTime)), ["01", "03"]);
  assert.deepEqual(callsOf("ov-allow").map((c) => sec(c.scheduledTime)), ["01", "02", "03"]);
  assert.deepEqual((await ledger(t.db, "ov-allow")).map((r) => r.status), ["succeeded", "succeeded", "succeeded"]);
});

test(`${backend}: a run whose node stopped heartbeating is taken over and run again (at least once), and no longer blocks overlap`, async () => {
  const clock = manualClock(new Date("2026-07-02T08:00:00.500Z"));
  await t.db.query(
    `insert into hangar.cron_runs (function_name, scheduled_at, run_id, status, node_id, claimed_at, started_at, heartbeat_at)
     values ('ghost', '2026-07-02T07:59:00Z', gen_random_uuid(), 'running', 'node-dead', '2026-07-02T07:59:00Z', '2026-07-02T07:59:00Z', '2026-07-02T07:59:05Z')`,
  );
  const { invoker, callsOf } = callbackInvoker();
  const functions = [fn("ghost", { schedule: "* * * * * *", overlap: "skip" })];
  const s = await startScheduler({ db: t.db, invoker, functions: () => functions, nodeId: "alive", clock, options: { tickMs: 5, heartbeatMs: 20, deadAfterMs: 30_000 } });
  try {
    await waitFor("first sight", () => cursorOf(t.db, "ghost"));
    await waitFor("the dead node's run, run again", async () => (await ledger(t.db, "ghost"))[0].status === "succeeded");
    const [taken] = await ledger(t.db, "ghost");
    assert.equal(taken.node_id, "alive");
    assert.equal(taken.reason, "no heartbeat from node node-dead since 2026-07-02T07:59:05.000Z; run again by node alive");
    const { rows } = await t.db.query<{ attempt: number }>("select attempt from hangar.cron_runs where run_id = $1", [taken.run_id]);
    assert.equal(rows[0].attempt, 2);
    assert.deepEqual(callsOf("ghost").map((c) => new Date(c.scheduledTime).toISOString()), ["2026-07-02T07:59:00.000Z"]);
    clock.set(new Date("2026-07-02T08:00:01.000Z"));
    await waitFor("the next run", () => callsOf("ghost").length === 2);
  } finally {
    await s.close();
  }
  assert.deepEqual((await ledger(t.db, "ghost")).map((r) => r.status), ["succeeded", "succeeded"]);
});

test(`${backend}: a live node's long run keeps its heartbeat; a run still going at shutdown is handed over, not marked died`, async () => {
  const clock = manualClock(new Date("2026-07-03T08:00:00.500Z"));
  const { invoker } = callbackInvoker({ hang: () => new Promise(() => {}) });
  const functions = [fn("hang", { schedule: "* * * * * *", overlap: "skip", limits: { wallMs: 300 } })];
  const a = await startScheduler({ db: t.db, invoker, functions: () => functions, nodeId: "a", clock, options: { tickMs: 5, heartbeatMs: 10, deadAfterMs: 300_000 } });
  const b = await startScheduler({ db: t.db, invoker, functions: () => functions, nodeId: "b", clock, options: { tickMs: 5, heartbeatMs: 10, deadAfterMs: 300_000 } });
  try {
    await waitFor("first sight", () => cursorOf(t.db, "hang"));
    clock.set(new Date("2026-07-03T08:00:01.000Z"));
    await waitFor("running", async () => (await ledger(t.db, "hang"))[0]?.status === "running");
    // Ten minutes later by the clock, twice the dead-after: the owner's heartbeats keep the run alive for the other node's sweep.
    // The clock moves on only once the owner has heartbeated at the current time: a live node on a loaded machine
    // is slow, not dead, and the test is about liveness, not speed.
    for (let i = 0; i < 60; i++) {
      clock.advance(10_000);
      const now = (await clock.now()).getTime();
      await waitFor("heartbeat", async () => {
        const { rows: hb } = await t.db.query<{ at: Date }>("select heartbeat_at as at from hangar.cron_runs where function_name = 'hang' and status = 'running' order by scheduled_at limit 1");
        return hb[0] && new Date(hb[0].at).getTime() >= now;
      });
    }
    const rows = await ledger(t.db, "hang");
    assert.equal(rows[0].status, "running");
    assert.ok(rows.slice(1).every((r) => r.status === "skipped" || r.status === "missed"), `later occurrences are skipped while it runs: ${JSON.stringify(rows.map((r) => [r.status, r.reason]))}`);
  } finally {
    const owner = (await ledger(t.db, "hang"))[0].node_id;
    await (owner === "a" ? a : b).close(); // waits the 300 ms wall limit (+1 s), then gives up on the run
    await (owner === "a" ? b : a).close();
  }
  const [run] = await ledger(t.db, "hang");
  assert.ok(run.status === "running" || run.status === "queued", run.status);
  assert.match(run.reason ?? "", /handed over by node [ab] at shutdown/);
});
