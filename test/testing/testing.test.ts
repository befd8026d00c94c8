// @both-backends
// The public test helper, as a user imports it: `hangar/testing`.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createTestHangar, type TestHangar } from "hangar/testing";
import { backend, createPgDatabase, dropPgDatabase } from "../helpers/db.ts";

const functions = new URL("../../functions", import.meta.url).pathname;
let h: TestHangar;
let url: string | undefined;

before(async () => {
  // A throwaway Postgres on the first pass; on the PGlite pass, the helper's default: an in-memory embedded one.
  url = backend === "pglite" ? undefined : await createPgDatabase();
  h = await createTestHangar({ dir: functions, databaseUrl: url });
});
after(async () => {
  await h?.close();
  if (url) await dropPgDatabase(url);
});

test("fetch: a function answers as over HTTP", async () => {
  const res = await h.fetch("/functions/v1/hello?name=Ada");
  assert.equal(res.status, 200);
  assert.equal((await res.json()).message, "Hello, Ada!");
});

test("scheduled: run one occurrence at a chosen time (a clock for cron), see its console lines and effects", async () => {
  const night = new Date("2030-01-02T03:00:00Z");
  await h.scheduled("nightly", night);
  assert.ok(h.logs("nightly").some((l) => l.startsWith("nightly 2030-01-02T03:00:00.000Z")), h.logs("nightly").join("\n"));
  const rows = await h.sql<{ scheduled_at: Date }>("select scheduled_at from nightly_reports");
  assert.deepEqual(rows.map((r) => new Date(r.scheduled_at).toISOString()), [night.toISOString()]);
});

test("a shipped schema file ran at deploy, and table events are delivered for real", async () => {
  await h.sql("insert into signups (email, name) values ('grace@example.com', 'Grace')");
  const rows = await h.until(async () => {
    const r = await h.sql<{ body: string }>("select body from welcome_messages where email = 'grace@example.com'");
    return r.length ? r : null;
  });
  assert.equal(rows[0].body, "Welcome to the hangar, Grace!");
});

test("event: call a handler directly with a table change; a throw surfaces in the test", async () => {
  await h.event("on-signup", { table: "signups", op: "insert", new: { id: "9", email: "lin@example.com", name: "Lin" } });
  assert.equal((await h.sql("select 1 from welcome_messages where email = 'lin@example.com'")).length, 1);
  await assert.rejects(h.event("on-signup", { table: "signups", op: "insert", new: null }), /on-signup: /);
});
