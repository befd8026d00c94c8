// A cron run taken over from a SIGKILLed instance (SPEC §8, issue 20): three
// `hangar start` processes on one Postgres, an at-least-once schedule whose
// runs outlast the fleet's dead-after. A live holder keeps its run (its
// heartbeats prove it alive: no second start while it lives); the instance
// holding a run is SIGKILLed mid-run; another instance runs that occurrence
// again to the end. No occurrence is lost.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { runCli, startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { createPgDatabase, dropPgDatabase } from "../helpers/db.ts";

const fixture = new URL("./fixtures/slow-run", import.meta.url).pathname;
const DEAD_AFTER_MS = 3000;
let url: string;
let client: pg.Client;
let servers: ServerProcess[] = [];
const env = (node: string) => ({ DATABASE_URL: url, HANGAR_ADMIN_TOKEN: "t", HANGAR_SECRET_KEY: "k", HANGAR_NODE_ID: node, HANGAR_CRON_DEAD_AFTER_MS: String(DEAD_AFTER_MS) });

before(async () => {
  url = await createPgDatabase();
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("create table slow_marks (scheduled_at timestamptz not null, run_id uuid not null, phase text not null, at timestamptz not null default clock_timestamp())");
  await client.query("grant insert, select on slow_marks to hangar_guest");
});

after(async () => {
  // SIGKILL: a graceful stop would wait for the 8 s runs in flight.
  await Promise.all(servers.map((s) => s.kill()));
  await client?.end();
  if (url) await dropPgDatabase(url);
});

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) {
      const { rows } = await client.query("select scheduled_at, status, node_id, attempt, started_at, heartbeat_at from hangar.cron_runs where function_name = 'slow' order by 1");
      throw new Error(`timed out waiting for ${what}; ledger: ${JSON.stringify(rows)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Run = { scheduled_at: Date; node_id: string; run_id: string };

test("3 instances: a run outlives dead-after while its holder lives, is taken over when the holder is SIGKILLed mid-run, and no occurrence is lost", { timeout: 240_000 }, async () => {
  const t0 = Date.now();
  const mark = (m: string) => process.stderr.write(`[takeover] ${((Date.now() - t0) / 1000).toFixed(1)} s: ${m}\n`);
  const d = await runCli(["deploy", "--dir", fixture], env("deployer"), { timeoutMs: 120_000 });
  assert.equal(d.code, 0, d.stdout + d.stderr);
  // Each kept as soon as it serves, so a failed start of another still leaves it to clean up.
  await Promise.all(["s0", "s1", "s2"].map(async (n, i) => (servers[i] = await startServerProcess(["start"], env(n)))));
  mark("deployed, 3 instances serving");

  // A run its (live) holder has kept going past dead-after: heartbeats, not luck, kept it.
  const held = await until("a run running past dead-after", 40_000, async () => {
    const { rows } = await client.query<Run>(
      `select scheduled_at, node_id, run_id::text from hangar.cron_runs
        where function_name = 'slow' and status = 'running' and started_at < now() - $1::int * interval '1 millisecond'
        order by scheduled_at limit 1`,
      [DEAD_AFTER_MS + 500],
    );
    return rows[0];
  });
  const victim = servers[Number(held.node_id.slice(1))];
  await victim.kill();
  mark(`killed ${held.node_id} holding the run of ${held.scheduled_at.toISOString()}`);
  const { rows: k } = await client.query<{ at: Date }>("select clock_timestamp() as at");
  const killedAt = k[0].at;
  const { rows: orphans } = await client.query<Run>(
    "select scheduled_at, node_id, run_id::text from hangar.cron_runs where function_name = 'slow' and node_id = $1 and status in ('queued', 'running')",
    [held.node_id],
  );
  assert.ok(orphans.some((r) => r.run_id === held.run_id), "the killed instance still held the run");

  // Every occurrence due before the kill ends succeeded, the orphans on another instance.
  const lastDue = new Date(Math.floor(killedAt.getTime() / 2000) * 2000);
  await until("every occurrence up to the kill finished", 60_000, async () => {
    const { rows } = await client.query<{ n: number }>(
      "select count(*)::int as n from hangar.cron_runs where function_name = 'slow' and scheduled_at <= $1 and status <> 'succeeded'",
      [lastDue],
    );
    return rows[0].n === 0;
  });

  mark("every occurrence up to the kill finished");
  const { rows: runs } = await client.query<Run & { attempt: number; status: string }>(
    "select scheduled_at, node_id, run_id::text, attempt, status from hangar.cron_runs where function_name = 'slow' and scheduled_at <= $1 order by scheduled_at",
    [lastDue],
  );
  const { rows: marks } = await client.query<{ scheduled_at: Date; phase: string; at: Date }>(
    "select scheduled_at, phase, at from slow_marks where scheduled_at <= $1",
    [lastDue],
  );
  const of = (r: Run, phase: string) => marks.filter((m) => m.scheduled_at.getTime() === r.scheduled_at.getTime() && m.phase === phase);

  // Never lost: one ledger row per 2 s from the first occurrence to the last due, each run to its end.
  const first = runs[0].scheduled_at.getTime();
  assert.deepEqual(runs.map((r) => r.scheduled_at.getTime()), Array.from({ length: (lastDue.getTime() - first) / 2000 + 1 }, (_, i) => first + i * 2000));
  for (const r of runs) assert.equal(of(r, "end").length, 1, `occurrence ${r.scheduled_at.toISOString()} ran to its end exactly once`);

  // Never duplicated while the holder lived: at most one start of any occurrence before the kill.
  for (const r of runs) {
    const before = of(r, "start").filter((m) => m.at < killedAt).length;
    assert.ok(before <= 1, `occurrence ${r.scheduled_at.toISOString()} started ${before} times while its holder lived`);
  }

  // Taken over: each orphan ran again elsewhere, after the kill.
  for (const o of orphans) {
    const r = runs.find((x) => x.run_id === o.run_id)!;
    assert.notEqual(r.node_id, held.node_id, `orphan ${o.scheduled_at.toISOString()} finished on a live instance`);
    assert.ok(r.attempt >= 2, `orphan ${o.scheduled_at.toISOString()} was run again (attempt ${r.attempt})`);
    assert.ok(of(r, "start").some((m) => m.at > killedAt), "its new start came after the kill");
    assert.ok(of(r, "end").every((m) => m.at > killedAt), "the killed run never reached its end");
  }
  // The other instances' runs were never taken from them.
  for (const r of runs.filter((x) => !orphans.some((o) => o.run_id === x.run_id))) {
    assert.equal(of(r, "start").length, 1, `occurrence ${r.scheduled_at.toISOString()} started once`);
  }
});
