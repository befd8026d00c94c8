// Database bad days, with a cluster of the test's own and real `hangar start`
// processes: a fast restart and repeated session terminations mid-workload
// kill no instance, lose no event and dead-letter none; a guest hogging
// sessions cannot starve health or another function's SQL.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { runCli, startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { startOwnCluster, type OwnCluster } from "../helpers/cluster.ts";

const fixture = new URL("./fixtures/resilience", import.meta.url).pathname;
let cluster: OwnCluster;
let url: string;
const servers: ServerProcess[] = [];

const env = (node: string, extra: Record<string, string> = {}) => ({
  DATABASE_URL: url,
  HANGAR_ADMIN_TOKEN: "t",
  HANGAR_SECRET_KEY: "k",
  HANGAR_NODE_ID: node,
  ...extra,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A statement on a fresh session, retried while the server restarts. */
async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
  for (let i = 0; ; i++) {
    const c = new pg.Client({ connectionString: url });
    c.on("error", () => {});
    try {
      await c.connect();
      return await c.query<R>(text, values);
    } catch (err) {
      if (i > 100) throw err;
      await sleep(100);
    } finally {
      await c.end().catch(() => {});
    }
  }
}

async function eventually(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

before(async () => {
  cluster = await startOwnCluster();
  url = cluster.url;
  const m = await runCli(["migrate"], env("m"));
  assert.equal(m.code, 0, m.stderr);
  await sql("create table items (id int primary key)");
  await sql("create table handled (event_id text not null, item_id int not null)");
  await sql("create table eo_effects (event_id text not null, item_id int not null)");
  await sql("grant select, insert on items, handled, eo_effects to hangar_guest");
  const d = await runCli(["deploy", "--dir", fixture], env("deployer"));
  assert.equal(d.code, 0, d.stdout + d.stderr);
});

after(async () => {
  await Promise.all(servers.map((s) => s.kill()));
  await cluster?.destroy();
});

test("pg_ctl restart -m fast and 12 rounds of pg_terminate_backend mid-workload: no instance dies, no event lost or dead, exactly-once effects once", { timeout: 170_000 }, async () => {
  const t0 = Date.now();
  const mark = (what: string) => process.stderr.write(`[resilience] ${((Date.now() - t0) / 1000).toFixed(1)} s ${what}\n`);
  servers.push(...(await Promise.all(["r0", "r1"].map((n) => startServerProcess(["start"], env(n))))));
  mark("started");
  const [a, b] = servers;
  let next = 1;
  const write = async (n: number) => {
    const from = next;
    next += n;
    await sql("insert into items select g from generate_series($1::int, $2::int) g", [from, next - 1]);
  };
  await write(200);
  await cluster.restart("fast");
  mark("restarted");
  await write(200);
  for (let round = 0; round < 12; round++) {
    await sql("select pg_terminate_backend(pid) from pg_stat_activity where application_name like 'hangar:%' and pid <> pg_backend_pid()");
    await write(20);
    await sleep(100);
  }
  const total = next - 1;
  mark("terminations done");
  await eventually(
    "every event done",
    async () => {
      const { rows } = await sql<{ n: number }>("select count(*)::int as n from hangar.events where status <> 'done'");
      return rows[0].n === 0;
    },
    90_000,
  );
  mark("all done");
  for (const s of [a, b]) assert.equal(s.child.exitCode, null, `an instance died:\n${s.output().slice(-3000)}`);
  const dead = await sql<{ n: number }>("select count(*)::int as n from hangar.events where status = 'dead'");
  assert.equal(dead.rows[0].n, 0);
  const handled = await sql<{ n: number }>("select count(distinct item_id)::int as n from handled");
  assert.equal(handled.rows[0].n, total, "every item handled at least once");
  const eo = await sql<{ n: number; d: number }>("select count(*)::int as n, count(distinct item_id)::int as d from eo_effects");
  assert.deepEqual(eo.rows[0], { n: total, d: total }, "exactly-once effects exist once each");
  const infra = await sql<{ n: number }>("select coalesce(sum(infra_failures), 0)::int as n from hangar.events");
  // Both instances still serve, SQL included.
  for (const s of [a, b]) {
    await eventually("health 200", async () => (await fetch(`${s.url}/_hangar/health`).catch(() => null))?.status === 200, 30_000);
    const res = await fetch(`${s.url}/functions/v1/write`);
    assert.equal(res.status, 200, await res.text());
  }
  mark("served");
  process.stderr.write(`[resilience] ${total} events, infrastructure retries ${infra.rows[0].n}\n`);
});

test("one invocation hogging guest sessions: health stays 200 and another function's SQL runs; the hog fails naming the cap", { timeout: 120_000 }, async () => {
  const s = servers[0] ?? (servers[0] = await startServerProcess(["start"], env("r0")));
  const hogs = [1, 2, 3].map(() => fetch(`${s.url}/functions/v1/hog`).then(async (r) => ({ status: r.status, body: await r.text() })));
  // While the hogs hold every session their caps allow, Hangar and others keep working.
  const until = Date.now() + 5_000;
  let probes = 0;
  while (Date.now() < until) {
    const [health, other] = await Promise.all([fetch(`${s.url}/_hangar/health`), fetch(`${s.url}/functions/v1/write`)]);
    assert.equal(health.status, 200, await health.text());
    assert.equal(other.status, 200, await other.text());
    probes++;
  }
  assert.ok(probes > 0);
  const results = await Promise.all(hogs);
  for (const r of results) {
    assert.equal(r.status, 502, r.body);
    assert.match(r.body, /per-invocation cap|per-function cap|guest pool/);
  }
});
