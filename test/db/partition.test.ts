// A silent network between one instance and Postgres (a proxy that swallows
// bytes, no RST) for longer than the timeouts: the other instance's cron keeps
// every occurrence going (no claim or lock held across the silence), the cut
// instance recovers by itself (and serves functions without SQL meanwhile),
// and SIGTERM still ends it promptly.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { runCli, startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { createPgDatabase, dropPgDatabase } from "../helpers/db.ts";
import { startProxy, type PausableProxy } from "../helpers/proxy.ts";

const fixture = new URL("./fixtures/partition", import.meta.url).pathname;
let url: string;
let client: pg.Client;
let proxy: PausableProxy;
const servers: ServerProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const env = (node: string, databaseUrl: string) => ({
  DATABASE_URL: databaseUrl,
  HANGAR_ADMIN_TOKEN: "t",
  HANGAR_SECRET_KEY: "k",
  HANGAR_NODE_ID: node,
  HANGAR_DB_STATEMENT_TIMEOUT_MS: "2000",
  HANGAR_DB_CONNECT_TIMEOUT_MS: "2000",
  HANGAR_DB_IDLE_IN_TX_TIMEOUT_MS: "3000",
  HANGAR_CRON_DEAD_AFTER_MS: "4000",
});

before(async () => {
  url = await createPgDatabase();
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("create table ticks (scheduled_at timestamptz not null, run_id text not null)");
  await client.query("grant insert, select on ticks to hangar_guest");
  const u = new URL(url);
  proxy = await startProxy({ host: u.hostname, port: Number(u.port) });
});

after(async () => {
  await Promise.all(servers.map((s) => s.kill()));
  await proxy?.close();
  await client?.end();
  if (url) await dropPgDatabase(url);
});

test("a silent network for longer than the timeouts: cron continues fleet-wide, the cut instance recovers by itself", { timeout: 170_000 }, async () => {
  const viaProxy = new URL(url);
  viaProxy.port = String(proxy.port);
  const d = await runCli(["deploy", "--dir", fixture], env("deployer", url));
  assert.equal(d.code, 0, d.stdout + d.stderr);
  const [cut, direct] = await Promise.all([
    startServerProcess(["start"], env("cut", viaProxy.toString())),
    startServerProcess(["start"], env("direct", url)),
  ]);
  servers.push(cut, direct);
  const dbNow = async () => (await client.query<{ now: Date }>("select now() as now")).rows[0].now;
  // Both instances take part before the cut.
  const until = Date.now() + 30_000;
  while ((await client.query("select distinct node_id from hangar.cron_runs where function_name = 'ticker' and status = 'succeeded'")).rowCount! < 2) {
    assert.ok(Date.now() < until, "both instances ran occurrences");
    await sleep(200);
  }
  const from = new Date(Math.ceil((await dbNow()).getTime() / 1000) * 1000);
  assert.equal((await fetch(`${cut.url}/functions/v1/hello`)).status, 200);
  proxy.pause();
  await sleep(8_000); // statement 2 s + client 5 s + connect 2 s: every bound passes
  // A function without SQL keeps answering while its instance cannot reach the database (secrets served from cache).
  const hello = await fetch(`${cut.url}/functions/v1/hello`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(hello.status, 200, await hello.text());
  proxy.resume();
  const to = new Date(Math.floor((await dbNow()).getTime() / 1000) * 1000);
  // The cut instance serves again by itself...
  const healthy = Date.now() + 40_000;
  for (;;) {
    const r = await fetch(`${cut.url}/_hangar/health`).catch(() => null);
    if (r?.status === 200) break;
    assert.ok(Date.now() < healthy, `the cut instance did not recover:\n${cut.output().slice(-3000)}`);
    await sleep(250);
  }
  // ...and takes part in cron again.
  const back = Date.now() + 40_000;
  while ((await client.query("select 1 from hangar.cron_runs where function_name = 'ticker' and node_id = 'cut' and status = 'succeeded' and scheduled_at > $1", [to])).rowCount === 0) {
    assert.ok(Date.now() < back, `the cut instance ran no occurrence after the network came back:\n${cut.output().slice(-3000)}`);
    await sleep(250);
  }
  // Every occurrence during the silence ran (taken over from the cut instance where it had claimed one).
  const settled = Date.now() + 40_000;
  for (;;) {
    const { rows } = await client.query<{ n: number }>("select count(distinct scheduled_at)::int as n from ticks where scheduled_at between $1 and $2", [from, to]);
    const expected = Math.round((to.getTime() - from.getTime()) / 1000) + 1;
    if (rows[0].n === expected) break;
    if (Date.now() > settled) {
      const { rows: r } = await client.query("select scheduled_at, status, node_id, attempt, reason from hangar.cron_runs where function_name = 'ticker' and scheduled_at between $1 and $2 and status <> 'succeeded'", [from, to]);
      assert.fail(`${expected - rows[0].n} of ${expected} occurrences during the silence never ran: ${JSON.stringify(r)}`);
    }
    await sleep(250);
  }
  for (const s of servers) assert.equal(s.child.exitCode, null, "no instance died");
  const t0 = Date.now();
  const code = await cut.stop(15_000);
  assert.equal(code, 0, `SIGTERM ended the cut instance cleanly:\n${cut.output().slice(-2000)}`);
  process.stderr.write(`[partition] SIGTERM took ${Date.now() - t0} ms\n`);
});
