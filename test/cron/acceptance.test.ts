// Acceptance: three `hangar start` processes on one Postgres, an every-second
// schedule with catchUp "all", one instance SIGKILLed and restarted again and
// again for half a minute. Every occurrence in that time has exactly one ledger
// row and ran once (one side-effect row), except a run taken over from a killed
// instance (at least once: the killed run may have committed its effect before
// it died; the ledger's attempt says so); runs that did not succeed are ones
// whose instance was killed under them, marked died, never left running.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { runCli, startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { createPgDatabase, dropPgDatabase } from "../helpers/db.ts";

const fixture = new URL("./fixtures/every-second", import.meta.url).pathname;
let url: string;
let client: pg.Client;
const servers: (ServerProcess | null)[] = [null, null, null];

before(async () => {
  url = await createPgDatabase();
  client = new pg.Client({ connectionString: url });
  await client.connect();
});

after(async () => {
  await Promise.all(servers.map((s) => s?.kill()));
  await client?.end();
  if (url) await dropPgDatabase(url);
});

const env = (node: string) => ({ DATABASE_URL: url, HANGAR_ADMIN_TOKEN: "t", HANGAR_SECRET_KEY: "k", HANGAR_NODE_ID: node });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dbNow = async () => (await client.query<{ now: Date }>("select now() as now")).rows[0].now;

test("every-second schedule, 3 instances, one killed and restarted for half a minute: each occurrence once", { timeout: 240_000 }, async () => {
  await client.query("create table ticks (scheduled_at timestamptz not null, run_id text not null)");
  const deployed = await runCli(["deploy", "--dir", fixture], env("deployer"));
  assert.equal(deployed.code, 0, deployed.stderr);
  for (let i = 0; i < 3; i++) servers[i] = await startServerProcess(["start"], env(`n${i}`));

  await sleep(2_000);
  const from = new Date(Math.ceil((await dbNow()).getTime() / 1000) * 1000);
  let kills = 0;
  const chaosUntil = Date.now() + 30_000;
  for (let victim = 0; Date.now() < chaosUntil; victim = (victim + 1) % 3) {
    await sleep(2_000 + Math.random() * 3_000);
    await servers[victim]!.kill();
    kills++;
    await sleep(Math.random() * 2_000);
    servers[victim] = await startServerProcess(["start"], env(`n${victim}`));
  }
  const to = new Date(Math.floor((await dbNow()).getTime() / 1000) * 1000 - 2_000);
  // Runs of killed instances become died once their heartbeat is stale: the survivors' sweep must get there.
  const deadline = Date.now() + 90_000;
  for (;;) {
    const { rows } = await client.query("select count(*)::int as n from hangar.cron_runs where status in ('queued', 'running') and scheduled_at <= $1", [to]);
    if (rows[0].n === 0) break;
    assert.ok(Date.now() < deadline, `${rows[0].n} runs still marked running long after their instance died`);
    await sleep(1_000);
  }
  await Promise.all(servers.map((s) => s!.stop()));

  const { rows: ledger } = await client.query<{ at: string; status: string; node_id: string; attempt: number; ticks: number }>(
    `select extract(epoch from r.scheduled_at)::int8::text as at, r.status, r.node_id, r.attempt,
       (select count(*)::int from ticks t where t.scheduled_at = r.scheduled_at) as ticks
     from hangar.cron_runs r where r.function_name = 'ticker' and r.scheduled_at between $1 and $2 order by r.scheduled_at`,
    [from, to],
  );
  const expected = (to.getTime() - from.getTime()) / 1000 + 1;
  const seen = new Set(ledger.map((r) => Number(r.at)));
  const gaps: string[] = [];
  for (let s = from.getTime() / 1000; s <= to.getTime() / 1000; s++) if (!seen.has(s)) gaps.push(new Date(s * 1000).toISOString());
  assert.deepEqual(gaps, [], "occurrences with no ledger row");
  assert.equal(ledger.length, expected);

  // more than one effect only where the run was taken over from a killed instance, and never more than one per attempt
  const twice = ledger.filter((r) => r.ticks > 1 && (r.attempt < 2 || r.ticks > r.attempt));
  assert.deepEqual(twice, [], "occurrences that ran twice without a takeover");
  const bad = ledger.filter((r) => (r.status === "succeeded" && (r.ticks < 1 || r.ticks > r.attempt)) || !["succeeded", "died"].includes(r.status));
  assert.deepEqual(bad, [], "every occurrence succeeded (once per attempt at most), or died with its killed instance");
  const died = ledger.filter((r) => r.status === "died");
  assert.ok(died.length <= kills * 3, `${died.length} died runs for ${kills} kills`);
  const byNode: Record<string, number> = {};
  for (const r of ledger) byNode[r.node_id] = (byNode[r.node_id] ?? 0) + 1;
  process.stderr.write(`[cron acceptance] ${expected} occurrences, ${kills} kills, ${died.length} died, by node ${JSON.stringify(byNode)}\n`);
});
