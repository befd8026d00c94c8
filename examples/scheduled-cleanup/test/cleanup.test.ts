import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import pg from "pg";
import { runCli, startServerProcess, type ServerProcess } from "../../../test/helpers/cli.ts";
import { createPgDatabase, dropPgDatabase } from "../../../test/helpers/db.ts";

const here = new URL("..", import.meta.url).pathname;
let url: string;
let env: Record<string, string>;
let client: pg.Client;
let server: ServerProcess | undefined;
let fast: string;

before(async () => {
  url = await createPgDatabase();
  env = { DATABASE_URL: url, HANGAR_ADMIN_TOKEN: "t", HANGAR_SECRET_KEY: "k" };
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(await readFile(join(here, "schema.sql"), "utf8"));
  await client.query(`insert into sessions (id, user_id, last_seen_at) values
    ('old-1', 'u1', now() - interval '60 days'), ('old-2', 'u2', now() - interval '45 days'), ('old-3', 'u3', now() - interval '31 days'),
    ('new-1', 'u4', now() - interval '29 days'), ('new-2', 'u5', now())`);
});

after(async () => {
  await server?.kill();
  await client?.end();
  if (url) await dropPgDatabase(url);
  if (fast) await rm(fast, { recursive: true, force: true });
});

test("as shipped: 04:30 Europe/Berlin, shown by `hangar cron list`", async () => {
  const deployed = await runCli(["deploy", "--dir", join(here, "functions")], env);
  assert.equal(deployed.code, 0, deployed.stderr);
  const listed = await runCli(["cron", "list", "--json"], env);
  assert.equal(listed.code, 0, listed.stderr);
  const item = (JSON.parse(listed.stdout) as { schedules: Record<string, unknown>[] }).schedules.find((s) => s.name === "cleanup")!;
  assert.equal(item.schedule, "30 4 * * *");
  assert.equal(item.timezone, "Europe/Berlin");
  const local = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Berlin", hour: "2-digit", minute: "2-digit" }).format(new Date(item.next as string));
  assert.equal(local, "04:30");
});

test("firing every second on a real server: old sessions pruned, fresh kept, one report per occurrence", { timeout: 120_000 }, async () => {
  // The same function, its schedule turned up so the test need not wait for 04:30.
  fast = await mkdtemp(join(tmpdir(), "hangar-cleanup-"));
  await cp(join(here, "functions"), fast, { recursive: true });
  const src = await readFile(join(fast, "cleanup.ts"), "utf8");
  await writeFile(join(fast, "cleanup.ts"), src.replace('schedule: "30 4 * * *"', 'schedule: "* * * * * *"'));
  const deployed = await runCli(["deploy", "--dir", fast], env);
  assert.equal(deployed.code, 0, deployed.stderr);
  server = await startServerProcess(["start"], env);
  for (let i = 0; ; i++) {
    const { rows } = await client.query("select count(*)::int as n from cleanup_reports");
    if (rows[0].n >= 2) break;
    assert.ok(i < 300, `no reports after 30 s:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const { rows: left } = await client.query("select id from sessions order by id");
  assert.deepEqual(left.map((r) => r.id), ["new-1", "new-2"]);
  const { rows: reports } = await client.query("select scheduled_at, pruned, kept from cleanup_reports order by scheduled_at");
  assert.equal(reports.reduce((n, r) => n + r.pruned, 0), 3);
  assert.ok(reports.every((r) => r.kept === 2 && r.scheduled_at.getMilliseconds() === 0));
  const runs = await runCli(["cron", "runs", "cleanup", "--json"], env);
  assert.equal(runs.code, 0, runs.stderr);
  const ledger = (JSON.parse(runs.stdout) as { runs: { status: string }[] }).runs;
  assert.ok(ledger.some((r) => r.status === "succeeded"));
  const res = await fetch(`${server.url}/functions/v1/cleanup`);
  assert.equal(res.status, 200);
  assert.ok(((await res.json()) as { reports: unknown[] }).reports.length >= 2);
});
