// @both-backends
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { validateConfig } from "../../host/build/index.ts";
import { resolveConfig } from "../../host/config/index.ts";
import { cronOps, dbClock, manualClock, startScheduler } from "../../host/cron/index.ts";
import { UserError } from "../../host/errors.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { callbackInvoker, fn, waitFor } from "./harness.ts";

let t: TestDatabase;
before(async () => (t = await createTestDatabase()));
after(() => t.close());

const ctx = () => ({ db: t.db, config: resolveConfig("cli", {}, {}), actor: "test" });

/** A deployed, active version, written the way the registry stores it. */
async function deployRow(name: string, config: unknown) {
  await t.db.query("insert into hangar.functions (name) values ($1)", [name]);
  const { rows } = await t.db.query<{ id: string }>(
    `insert into hangar.versions (function_name, version, hash, bundle, config, deployed_by) values ($1, 1, 'h', '', $2, 'test') returning id`,
    [name, JSON.stringify(validateConfig(name, config))],
  );
  await t.db.query("update hangar.functions set active_version = $2 where name = $1", [name, rows[0].id]);
}

test(`${backend}: cron.list shows scheduled active functions with next occurrence (db clock) and last run; cron.runs the ledger`, async () => {
  await deployRow("report", { schedule: "0 3 * * *", timezone: "Europe/Berlin", catchUp: "none" });
  await deployRow("plain-http", {});
  const { rows: [{ now }] } = await t.db.query<{ now: Date }>("select now() as now");

  const clock = manualClock(new Date("2026-08-01T00:59:59.900Z"));
  const { invoker } = callbackInvoker({ report: () => Promise.reject(new Error("disk full")) });
  const s = await startScheduler({ db: t.db, invoker, functions: () => [fn("report", { schedule: "0 1 * * *" })], nodeId: "n", clock, options: { tickMs: 5 } });
  try {
    await waitFor("first sight", async () => (await t.db.query("select 1 from hangar.cron_state where function_name = 'report'")).rowCount);
    clock.set(new Date("2026-08-01T01:00:00.000Z"));
    await waitFor("the run", async () => (await t.db.query("select 1 from hangar.cron_runs where status = 'failed'")).rowCount);
  } finally {
    await s.close();
  }

  const list = (await cronOps["cron.list"](ctx(), {})) as { schedules: Record<string, unknown>[] };
  assert.equal(list.schedules.length, 1);
  const item = list.schedules[0];
  assert.equal(item.name, "report");
  assert.equal(item.schedule, "0 3 * * *");
  assert.equal(item.timezone, "Europe/Berlin");
  assert.equal(item.catchUp, "none");
  const next = new Date(item.next as string);
  assert.ok(next > now && next.getTime() - now.getTime() <= 25 * 3_600_000);
  assert.equal(new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Berlin", hour: "2-digit", minute: "2-digit" }).format(next), "03:00");
  assert.deepEqual(item.lastRun, { scheduledAt: "2026-08-01T01:00:00.000Z", status: "failed", finishedAt: "2026-08-01T01:00:00.000Z", error: "GUEST_THREW: disk full" });

  const runs = (await cronOps["cron.runs"](ctx(), { name: "report" })) as { runs: Record<string, unknown>[] };
  assert.equal(runs.runs.length, 1);
  assert.equal(runs.runs[0].status, "failed");
  assert.equal(runs.runs[0].error, "GUEST_THREW: disk full");
  assert.equal(runs.runs[0].node, "n");
  assert.equal(runs.runs[0].requestId, "req-1");
  assert.deepEqual(((await cronOps["cron.runs"](ctx(), { name: "plain-http" })) as { runs: unknown[] }).runs, []);
  await assert.rejects(cronOps["cron.runs"](ctx(), { name: "nope" }), (e) => e instanceof UserError && /no function named "nope"/.test(e.message));
  await assert.rejects(cronOps["cron.runs"](ctx(), { name: "report", limit: 0 }), UserError);
});

test(`${backend}: the database clock agrees with now() and is read through the monotonic clock`, async () => {
  const clock = dbClock(t.db, { resyncMs: 60_000 });
  const a = await clock.now();
  const { rows: [{ now }] } = await t.db.query<{ now: Date }>("select clock_timestamp() as now");
  const b = await clock.now();
  assert.ok(Math.abs(now.getTime() - a.getTime()) < 1000, `db clock ${a.toISOString()} vs ${now.toISOString()}`);
  assert.ok(b >= a);
});
