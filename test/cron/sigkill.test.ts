// Cron exactly once per occurrence (SPEC §8) under instance deaths: an
// every-second exactly-once schedule on 3 `hangar start` processes, one of
// them SIGKILLed and restarted repeatedly. Runs the dead instance had claimed
// are taken over and run again elsewhere; their SQL committed with the
// ledger row, so no occurrence is doubled and none is missed.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { runCli, startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { createPgDatabase, dropPgDatabase } from "../helpers/db.ts";

const fixture = new URL("./fixtures/every-second-once", import.meta.url).pathname;
let url: string;
let client: pg.Client;
const servers: (ServerProcess | null)[] = [null, null, null];
const env = (node: string) => ({ DATABASE_URL: url, HANGAR_ADMIN_TOKEN: "t", HANGAR_SECRET_KEY: "k", HANGAR_NODE_ID: node, HANGAR_CRON_DEAD_AFTER_MS: "3000" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  url = await createPgDatabase();
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("create table ticks (scheduled_at timestamptz not null, run_id uuid not null)");
  await client.query("grant insert, select on ticks to hangar_guest");
});

after(async () => {
  await Promise.all(servers.map((s) => s?.kill()));
  await client?.end();
  if (url) await dropPgDatabase(url);
});

test("every-second exactly-once schedule, 3 instances, one SIGKILLed twice mid-run: 0 doubled, 0 missed occurrences", { timeout: 170_000 }, async () => {
  const d = await runCli(["deploy", "--dir", fixture], env("deployer"));
  assert.equal(d.code, 0, d.stdout + d.stderr);
  const started = await Promise.all([0, 1, 2].map((i) => startServerProcess(["start"], env(`k${i}`))));
  started.forEach((s, i) => (servers[i] = s));
  const { rows: t0 } = await client.query<{ now: Date }>("select now() as now");
  const from = new Date(Math.ceil(t0[0].now.getTime() / 1000) * 1000 + 2000);
  for (let k = 0; k < 2; k++) {
    // Kill while it holds a run (its exactly-once transaction open).
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      const { rows } = await client.query("select 1 from hangar.cron_runs where node_id = 'k0' and status in ('queued', 'running') and scheduled_at >= $1", [from]);
      if (rows.length) break;
      await sleep(50);
    }
    await servers[0]!.kill();
    servers[0] = await startServerProcess(["start"], env("k0"));
  }
  await sleep(2000);
  const { rows: t1 } = await client.query<{ now: Date }>("select now() as now");
  const to = new Date(Math.floor(t1[0].now.getTime() / 1000) * 1000 - 1000);
  // Wait until every occurrence in [from, to] has finished (taken-over runs need dead-after + a sweep).
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { rows } = await client.query<{ n: number }>(
      "select count(*)::int as n from hangar.cron_runs where function_name = 'ticker' and scheduled_at between $1 and $2 and status = 'succeeded'",
      [from, to],
    );
    const expected = Math.round((to.getTime() - from.getTime()) / 1000) + 1;
    if (rows[0].n >= expected) break;
    if (Date.now() > deadline) {
      const { rows: r } = await client.query("select scheduled_at, status, node_id, attempt, reason from hangar.cron_runs where function_name = 'ticker' and scheduled_at between $1 and $2 and status <> 'succeeded' order by 1", [from, to]);
      assert.fail(`${expected - rows[0].n} occurrences not succeeded: ${JSON.stringify(r)}`);
    }
    await sleep(250);
  }
  const { rows: ticks } = await client.query<{ at: Date; n: number }>(
    "select scheduled_at as at, count(*)::int as n from ticks where scheduled_at between $1 and $2 group by 1 order by 1",
    [from, to],
  );
  const expected = Math.round((to.getTime() - from.getTime()) / 1000) + 1;
  const doubled = ticks.filter((t) => t.n > 1).length;
  const missed = expected - ticks.length;
  process.stderr.write(`[cron sigkill] ${expected} occurrences: ${doubled} doubled, ${missed} missed\n`);
  assert.equal(doubled, 0);
  assert.equal(missed, 0);
  const { rows: taken } = await client.query<{ n: number }>("select count(*)::int as n from hangar.cron_runs where function_name = 'ticker' and attempt > 1");
  process.stderr.write(`[cron sigkill] runs taken over or retried: ${taken[0].n}\n`);
  assert.ok(taken[0].n >= 1, "a killed instance's run was taken over (the test exercised a death mid-run)");
});
