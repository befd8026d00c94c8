import { resolveConfig } from "../../host/config/index.ts";
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { logsCommand } from "../../host/cli/commands/logs.ts";
import type { Db } from "../../host/db/index.ts";
import { createLogWriter, rotateLogs } from "../../host/logs/index.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { record } from "./helpers.ts";
import { waitFor } from "../helpers/wait.ts";

// In process against DATABASE_URL (the local path of the command); the process-level run is in e2e.test.ts.
let t: TestDatabase;
let db: Db;
before(async () => {
  t = await createTestDatabase();
  db = t.db;
  await rotateLogs(db, { retentionDays: 7 });
  const w = createLogWriter({ db, flushMs: 10 });
  const at = new Date("2030-01-01T00:00:00Z");
  w.record(record({ functionName: "hello", requestId: "r-ok", startedAt: new Date(Date.now() - 1000), durationMs: 12.34, logs: [{ level: "log", message: "hello from guest\nsecond line", time: at }] }));
  w.record(record({
    functionName: "broken", requestId: "r-bad", trigger: "event", status: "GUEST_THREW", httpStatus: 500,
    error: { message: "kaput", stack: "Error: kaput\n    at handler (functions/broken/index.ts:7:13)" },
  }));
  await w.close();
});
after(() => t.close());

async function run(args: string[], flags: Record<string, unknown> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const all = { "database-url": t.url!, ...flags };
  const code = await logsCommand.run(all, args, { out: (l) => out.push(l), err: (l) => err.push(l) }, resolveConfig("cli", all, {}));
  return { code, out, err };
}

test("hangar logs prints one readable line per invocation, console lines indented, the stack of a failure", async () => {
  const { code, out } = await run([]);
  assert.equal(code, 0);
  const text = out.join("\n");
  assert.match(out[0], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  hello  http  ok 200  12\.3 ms  r-ok$/);
  assert.match(out[1], /^    00:00:00\.000 log   hello from guest$/);
  assert.match(out[2], /^ +second line$/);
  assert.match(text, /broken  event  GUEST_THREW 500  .*  r-bad/);
  assert.match(text, /  ! Error: kaput\n  ! {5}at handler \(functions\/broken\/index\.ts:7:13\)/);
});

test("hangar logs <name> --json prints JSON lines", async () => {
  const { code, out } = await run(["broken"], { json: true });
  assert.equal(code, 0);
  assert.equal(out.length, 1);
  const e = JSON.parse(out[0]);
  assert.equal(e.requestId, "r-bad");
  assert.equal(e.error.message, "kaput");
});

test("hangar logs says so when there is nothing", async () => {
  const { code, out, err } = await run(["nobody"], { since: "5m" });
  assert.equal(code, 0);
  assert.deepEqual(out, []);
  assert.deepEqual(err, ["no invocations of nobody recorded since 5m"]);
});

test("hangar logs --follow prints new invocations as they are written, until SIGINT", async () => {
  const out: string[] = [];
  const flags = { "database-url": t.url!, follow: true, json: true };
  const running = logsCommand.run(flags, ["follower"], { out: (l) => out.push(l), err: () => {} }, resolveConfig("cli", flags, {}));
  const w = createLogWriter({ db, flushMs: 10 });
  const write = async (...rs: Parameters<typeof record>[0][]) => {
    for (const r of rs) w.record(record(r));
    await w.flush();
  };
  // conditions, not times: the follower is past its first query once it printed what was there,
  // and then prints what is written after (its poll interval is the command's business)
  await write({ functionName: "follower", requestId: "f-0" });
  await waitFor("the follower's first page", () => out.length === 1);
  await write({ functionName: "follower", requestId: "f-1" }, { functionName: "other", requestId: "o-1" });
  await waitFor("the follower to print the new invocation", () => out.length === 2);
  await w.close();
  process.emit("SIGINT");
  assert.equal(await running, 0);
  assert.deepEqual(out.map((l) => JSON.parse(l).requestId), ["f-0", "f-1"]);
});
