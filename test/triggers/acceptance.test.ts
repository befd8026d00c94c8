// Acceptance: two `hangar start` processes on one Postgres deliver table
// events. 500 rows are written while no instance runs, then 3,000 more
// while both run; one instance is SIGKILLed mid-run and the other's LISTEN
// session is terminated. Every event is handled (none lost, none dead), and
// the exactly-once function's effects exist exactly once each. Then a
// failing function's event is dead-lettered, listed and replayed via the CLI.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { runCli, startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { createPgDatabase, dropPgDatabase } from "../helpers/db.ts";

const fixture = new URL("./fixtures/pipeline", import.meta.url).pathname;
let url: string;
let client: pg.Client;
const servers: (ServerProcess | null)[] = [null, null];

before(async () => {
  url = await createPgDatabase();
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("create table items (id int primary key, v text not null)");
  await client.query("create table handled (event_id text not null, item_id int not null)");
  await client.query("create table eo_effects (event_id text not null, item_id int not null)");
  await client.query("create table poison (id int primary key)");
});

after(async () => {
  await Promise.all(servers.map((s) => s?.kill()));
  await client?.end();
  if (url) await dropPgDatabase(url);
});

const env = (node: string) => ({ DATABASE_URL: url, HANGAR_ADMIN_TOKEN: "t", HANGAR_SECRET_KEY: "k", HANGAR_NODE_ID: node });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BEFORE = 500;
const DURING = 3_000;
/** Rows per insert while both run: 60 inserts, a kill after the 30th and a LISTEN cut after the 50th. */
const BATCH = 50;
const TOTAL = BEFORE + DURING;

async function counts(): Promise<Record<string, number>> {
  const { rows } = await client.query<{ k: string; n: number }>(
    "select function_name || ':' || status as k, count(*)::int as n from hangar.events group by 1",
  );
  return Object.fromEntries(rows.map((r) => [r.k, r.n]));
}

test("3,500 events across two instances, one SIGKILLed and one LISTEN session terminated: none lost, exactly-once effects once", { timeout: 600_000 }, async () => {
  const deployed = await runCli(["deploy", "--dir", fixture], env("deployer"));
  assert.equal(deployed.code, 0, deployed.stderr);

  // Written while no instance runs: stored, waiting.
  await client.query("insert into items select g, 'before' from generate_series(1, $1::int) g", [BEFORE]);
  assert.equal((await counts())["copy-item:pending"], BEFORE);

  servers[0] = await startServerProcess(["start"], env("n0"));
  servers[1] = await startServerProcess(["start"], env("n1"));

  let killed = false;
  let listenKilled = 0;
  for (let i = 0; i < DURING / BATCH; i++) {
    const from = BEFORE + i * BATCH + 1;
    await client.query("insert into items select g, 'during' from generate_series($1::int, $2::int) g", [from, from + BATCH - 1]);
    if (i === 30) {
      // Mid-run, with handlers (and exactly-once transactions) in flight.
      await servers[0]!.kill();
      killed = true;
    }
    if (i === 50) {
      const r = await client.query("select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = 'hangar:n1:listen'");
      listenKilled = r.rowCount ?? 0;
    }
    await sleep(20);
  }
  assert.ok(killed);
  assert.equal(listenKilled, 1, "n1's LISTEN session was found and terminated");

  // The killed instance's leases run out (default lease 60 s); the survivor takes them over.
  const deadline = Date.now() + 300_000;
  for (;;) {
    const c = await counts();
    if (c["copy-item:done"] === TOTAL && c["once-item:done"] === TOTAL) break;
    assert.ok(Date.now() < deadline, `not all events done: ${JSON.stringify(c)}\n${servers[1]!.output().slice(-3000)}`);
    await sleep(1000);
  }
  const c = await counts();
  assert.equal(c["copy-item:dead"] ?? 0, 0);
  assert.equal(c["once-item:dead"] ?? 0, 0);

  const handled = await client.query<{ items: number; rows: number }>("select count(distinct item_id)::int as items, count(*)::int as rows from handled");
  assert.equal(handled.rows[0].items, TOTAL, "every row's event handled at least once");
  const eo = await client.query<{ items: number; rows: number; events: number }>(
    "select count(distinct item_id)::int as items, count(distinct event_id)::int as events, count(*)::int as rows from eo_effects",
  );
  assert.deepEqual(eo.rows[0], { items: TOTAL, events: TOTAL, rows: TOTAL }, "exactly-once: each effect once");
  // Informational: at-least-once repeats come only from the killed instance's in-flight events.
  const repeats = handled.rows[0].rows - handled.rows[0].items;
  assert.ok(repeats <= 100, `${repeats} at-least-once repeats`);
});

test("a failing function's event is dead-lettered, listed and replayed through the CLI", { timeout: 180_000 }, async () => {
  if (!servers[1]) servers[1] = await startServerProcess(["start"], env("n1"));
  await client.query("insert into poison values (13)");
  const deadline = Date.now() + 120_000;
  let id = "";
  for (;;) {
    const { rows } = await client.query("select id::text as id from hangar.events where function_name = 'poison' and status = 'dead'");
    if (rows[0]) {
      id = rows[0].id;
      break;
    }
    assert.ok(Date.now() < deadline, "poison event never dead-lettered");
    await sleep(1000);
  }
  const listed = await runCli(["events", "list", "--status", "dead", "--json"], env("cli"));
  assert.equal(listed.code, 0, listed.stderr);
  const events = (JSON.parse(listed.stdout) as { events: { id: string; function: string; attempts: number; lastError: string }[] }).events;
  const ev = events.find((e) => e.id === id);
  assert.ok(ev, listed.stdout);
  assert.equal(ev.function, "poison");
  assert.equal(ev.attempts, 5);
  assert.match(ev.lastError, /cannot handle poison 13/);
  const table = await runCli(["events", "list", "--function", "poison"], env("cli"));
  assert.match(table.stdout, /ID\s+FUNCTION\s+TABLE/);
  assert.match(table.stdout, /public\.poison\s+insert\s+dead/);

  const replayed = await runCli(["events", "replay", id], env("cli"));
  assert.equal(replayed.code, 0, replayed.stderr);
  assert.match(replayed.stdout, new RegExp(`event ${id} .* is pending again`));
  const { rows } = await client.query("select attempts, status from hangar.events where id = $1", [id]);
  assert.ok(rows[0].status !== "dead" || rows[0].attempts < 5, "replayed from attempt 0");
  const again = await runCli(["events", "replay", "99999999"], env("cli"));
  assert.equal(again.code, 1);
  assert.match(again.stderr, /not found/);
  await Promise.all(servers.map((s) => s?.stop()));
});
