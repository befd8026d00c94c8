// End to end through the real server and CLI: every trigger kind lands in
// `hangar logs` with its console lines, and a failure's stack points at the
// TypeScript line. Needs the server to wire the log writer (see host/logs/index.ts).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import pg from "pg";
import { runCli, startServerProcess } from "../helpers/cli.ts";
import { createPgDatabase, dropPgDatabase } from "../helpers/db.ts";

const fixtureDir = fileURLToPath(new URL("./fixtures/e2e", import.meta.url));

interface Entry {
  functionName: string;
  trigger: string;
  status: string;
  httpStatus: number;
  requestId: string;
  error: { message: string; stack: string | null } | null;
  logs: { level: string; message: string }[];
}

test("hangar logs shows http, event, cron and notify invocations with console lines and a TypeScript stack", { timeout: 120_000 }, async () => {
  const url = await createPgDatabase();
  const env = { DATABASE_URL: url, HANGAR_ADMIN_TOKEN: "e2e-token", HANGAR_SECRET_KEY: "e2e-secret-key-0123456789abcdef" };
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("create table e2e_items (id int primary key, label text)");
  const server = await startServerProcess(["start"], env);
  const cli = { ...env, HANGAR_URL: server.url };
  try {
    const deployed = await runCli(["deploy", "--dir", fixtureDir], cli);
    assert.equal(deployed.code, 0, deployed.stderr + deployed.stdout);

    const ok = await fetch(`${server.url}/functions/v1/web?n=1`);
    assert.equal(ok.status, 200);
    const bad = await fetch(`${server.url}/functions/v1/web?fail=1`);
    assert.equal(bad.status, 500);
    const badId = bad.headers.get("x-request-id");
    await client.query("insert into e2e_items values (7, 'seven')");

    // Listeners and the cron tick start asynchronously after a deploy: ping until heard.
    let entries: Entry[] = [];
    const seen = (fn: string) => entries.some((e) => e.functionName === fn);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (!seen("pinged")) await client.query("select pg_notify('e2e_ping', 'hello')");
      const r = await runCli(["logs", "--json"], cli);
      assert.equal(r.code, 0, r.stderr);
      entries = r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Entry);
      if (["web", "on-item", "tick", "pinged"].every(seen)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const find = (fn: string, pred: (e: Entry) => boolean = () => true) => {
      const e = entries.find((x) => x.functionName === fn && pred(x));
      assert.ok(e, `${fn} in hangar logs:\n${JSON.stringify(entries, null, 1)}\n${server.output()}`);
      return e;
    };
    const web = find("web", (e) => e.status === "ok");
    assert.equal(web.trigger, "http");
    assert.deepEqual(web.logs.map((l) => [l.level, l.message]), [["log", "web hit 1"]]);
    const failed = find("web", (e) => e.status !== "ok");
    assert.equal(failed.httpStatus, 500);
    assert.equal(failed.requestId, badId);
    assert.match(failed.error!.message, /web failed: on purpose/);
    // The throw is on line 3 of web.ts, called from line 10.
    assert.match(failed.error!.stack ?? "", /web\.ts:3:\d+/);
    assert.match(failed.error!.stack ?? "", /web\.ts:10:\d+/);
    const ev = find("on-item");
    assert.equal(ev.trigger, "event");
    assert.deepEqual(ev.logs.map((l) => [l.level, l.message]), [["info", "event item 7 seven"]]);
    const tick = find("tick");
    assert.equal(tick.trigger, "cron");
    assert.match(tick.logs[0]?.message ?? "", /^tick at /);
    const ping = find("pinged");
    assert.equal(ping.trigger, "notify");
    assert.deepEqual(ping.logs.map((l) => [l.level, l.message]), [["warn", "pinged on e2e_ping: hello"]]);

    // Readable form: the failure's head line and its mapped stack.
    const text = await runCli(["logs", "web"], cli);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /  web  http  ok 200  .* ms  /);
    assert.match(text.stdout, /^ {4}\S+ log   web hit 1$/m);
    assert.match(text.stdout, /^  ! .*web\.ts:3:\d+/m);

    // Metrics count the same invocations.
    const metrics = await (await fetch(`${server.url}/_hangar/metrics`, { headers: { authorization: "Bearer e2e-token" } })).text();
    assert.match(metrics, /hangar_invocations_total\{function="web",trigger="http",status="ok"[^}]*\} 1$/m);
    assert.match(metrics, /hangar_invocations_total\{function="tick",trigger="cron",status="ok"[^}]*\} \d+$/m);
  } finally {
    await server.stop();
    await client.end();
    await dropPgDatabase(url);
  }
});
