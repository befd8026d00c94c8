// The embedded database's thread, killed for real (Worker.terminate()): the
// statement in flight fails with an infrastructure error, a fresh thread opens
// the same data directory (what was committed is there, what was not is not),
// LISTEN works again, repeated deaths back off, and close() never restarts.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { toGuestError } from "../../host/bindings/sql/errors.ts";
import { isInfrastructureError } from "../../host/db/errors.ts";
import { PgliteDb } from "../../host/db/pglite.ts";
import { devConfig, serveDeployed } from "../helpers/server.ts";

const root = await mkdtemp(join(tmpdir(), "hangar-pglite-restart-"));
const dataDir = join(root, "pgdata");
after(() => rm(root, { recursive: true, force: true }));

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("a killed database thread: in-flight statements fail as infrastructure errors, a new thread serves the same data, LISTEN resumes", { timeout: 240_000 }, async (t) => {
  const warnings: string[] = [];
  const db = await PgliteDb.open({ dataDir, onWarn: (m) => warnings.push(m) });
  try {
    await db.query("create table kept (v text)", []);
    await db.query("insert into kept values ('before')", []);
    const heard: string[] = [];
    await db.listen("restart_chan", (p) => heard.push(p));
    let reconnects = 0;
    db.onReconnect(() => reconnects++);
    await db.query("select pg_notify('restart_chan', 'one')", []);
    await until("the first notification", () => heard.includes("one"));

    // A transaction with a row not yet committed, then a statement that runs long on the thread.
    let inserted = false;
    const inFlight = db.transaction(async (tx) => {
      await tx.query("insert into kept values ('uncommitted')", []);
      inserted = true;
      await tx.query("select pg_sleep(60)", []);
    });
    const failed = inFlight.then(() => null, (err: unknown) => err);
    await until("the long statement to be under way", () => inserted);
    // Queued behind the session: it runs on the new thread.
    const queued = db.query<{ n: number }>("select 7 as n", []);
    const thread = db.thread();
    assert.ok(thread, "a live thread");
    const killedAt = performance.now();
    await thread.terminate();

    const err = await failed;
    assert.ok(err instanceof Error, "the in-flight transaction failed");
    assert.ok(isInfrastructureError(err), `an infrastructure error: ${(err as Error).message}`);
    assert.match((err as Error).message, /embedded database's thread exited/);
    // What a guest's sql call sees, and what the dispatcher and cron judge by.
    assert.ok(isInfrastructureError(toGuestError(err).message), toGuestError(err).message);
    assert.deepEqual((await queued).rows, [{ n: 7 }], "a statement queued at the kill runs on the new thread");
    t.diagnostic(`killed to answered again: ${Math.round(performance.now() - killedAt)} ms`);
    assert.deepEqual((await db.query("select v from kept order by v", [])).rows, [{ v: "before" }], "committed data kept, the uncommitted row rolled back");

    await until("subscribers told to catch up", () => reconnects === 1);
    await db.query("select pg_notify('restart_chan', 'two')", []);
    await until("a notification after the restart", () => heard.includes("two"));
    assert.match(warnings.join("\n"), /thread exited \(code 1\).*restarting it on .*pgdata \(restart 1, now\)/);
    assert.match(warnings.join("\n"), /back after restart 1/);

    // Dying again soon after a restart backs off, and says so.
    await db.thread()!.terminate();
    await until("the second restart", async () => (await db.query<{ n: number }>("select 8 as n", []).catch(() => null))?.rows[0]?.n === 8);
    assert.match(warnings.join("\n"), /\(restart 2, in 0\.5 s, 2 deaths in a row\)/);
    await until("LISTEN again after the second restart", () => reconnects === 2);
    await db.query("select pg_notify('restart_chan', 'three')", []);
    await until("a notification after the second restart", () => heard.includes("three"));
    assert.equal(warnings.filter((w) => /restarting it/.test(w)).length, 2, warnings.join("\n"));
  } finally {
    await db.close();
    await db.close();
  }
  // close() does not restart, and the database is gone afterwards.
  assert.equal(db.thread(), null);
  await assert.rejects(db.query("select 1", []), /closed|ended|after calling end/);
  assert.equal(warnings.filter((w) => /restarting it/.test(w)).length, 2, warnings.join("\n"));
});

test("dev server: after its database thread is killed, hello and a SQL function answer again", { timeout: 240_000 }, async () => {
  const dir = join(root, "functions");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir);
  await writeFile(join(dir, "hello.ts"), `export default { fetch: () => new Response("hi") };`);
  await writeFile(join(dir, "answer.ts"), `import { sql } from "hangar";
export default { async fetch() { const rows = await sql\`select 41 + 1 as n\`; return Response.json(rows[0]); } };`);
  await writeFile(join(dir, "slow.ts"), `import { sql } from "hangar";
export const config = { limits: { wallMs: 120000 } };
export default { async fetch() { await sql\`select pg_sleep(60)\`; return new Response("woke"); } };`);
  const db = await PgliteDb.open({ dataDir });
  const server = await serveDeployed(devConfig(dir), db);
  try {
    const get = async (name: string) => {
      const res = await fetch(`${server.url}/functions/v1/${name}`);
      return { status: res.status, body: await res.text() };
    };
    assert.deepEqual(await get("answer"), { status: 200, body: `{"n":42}` });
    const slow = get("slow");
    await until("the slow function's statement to hold the session", () => (db.busyMs() ?? 0) > 2000);
    await db.thread()!.terminate();
    const killed = await slow;
    assert.equal(killed.status, 502, killed.body);
    assert.match(killed.body, /database unavailable: the embedded database's thread exited/);
    // Without SQL, hello needs no database: it answers while the thread restarts.
    assert.deepEqual(await get("hello"), { status: 200, body: "hi" });
    await until("the SQL function to answer again", async () => (await get("answer")).status === 200);
    assert.deepEqual(await get("answer"), { status: 200, body: `{"n":42}` });
    assert.equal((await fetch(`${server.url}/_hangar/health`)).status, 200);
  } finally {
    await server.close();
    await db.close();
  }
});
