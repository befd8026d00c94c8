// Run with: node --import tsx --test examples/scheduled-cleanup/test/cleanup.test.ts
// (an in-memory embedded Postgres, or DATABASE_URL when set).
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { createTestHangar, type TestHangar } from "hangar/testing";

const here = new URL("..", import.meta.url).pathname;
let h: TestHangar;
// Relative to a fixed night, so the test does not depend on today's date.
const night = new Date("2030-03-10T03:30:00Z"); // 04:30 in Berlin (CET)
const daysBefore = (d: number) => new Date(night.getTime() - d * 86_400_000).toISOString();

before(async () => {
  h = await createTestHangar({ dir: `${here}/functions` });
  // A DATABASE_URL may be reused between runs: start from an empty schema.
  await h.sql("drop table if exists sessions, cleanup_reports");
  await h.sql(await readFile(`${here}/schema.sql`, "utf8"));
  await h.sql(`insert into sessions (id, user_id, last_seen_at) values
    ('old-1', 'u1', '${daysBefore(60)}'), ('old-2', 'u2', '${daysBefore(45)}'), ('old-3', 'u3', '${daysBefore(31)}'),
    ('new-1', 'u4', '${daysBefore(29)}'), ('new-2', 'u5', '${daysBefore(0)}')`);
});

after(() => h?.close());

test("as shipped: 04:30 Europe/Berlin", async () => {
  const src = await readFile(`${here}/functions/cleanup.ts`, "utf8");
  assert.match(src, /schedule: "30 4 \* \* \*"/);
  assert.match(src, /timezone: "Europe\/Berlin"/);
});

test("one occurrence prunes sessions older than the TTL from the scheduled time, keeps fresh ones, writes one report", async () => {
  await h.scheduled("cleanup", night);
  const left = await h.sql<{ id: string }>("select id from sessions order by id");
  assert.deepEqual(left.map((r) => r.id), ["new-1", "new-2"]);
  // The same occurrence again (a retry by hand) writes no second report.
  await h.scheduled("cleanup", night);
  const reports = await h.sql<{ pruned: number; kept: number }>("select pruned, kept from cleanup_reports");
  assert.deepEqual(reports, [{ pruned: 3, kept: 2 }]);
  assert.match(h.logs("cleanup")[0], /^cleanup for 2030-03-10T03:30:00\.000Z: pruned 3 sessions/);
  const res = await h.fetch("/functions/v1/cleanup");
  assert.equal(((await res.json()) as { reports: unknown[] }).reports.length, 1);
});

test("a late catch-up prunes exactly what the on-time run would have (cutoff from scheduledTime)", async () => {
  const next = new Date(night.getTime() + 86_400_000);
  await h.sql(`insert into sessions (id, user_id, last_seen_at) values ('edge', 'u6', '${new Date(next.getTime() - 30.5 * 86_400_000).toISOString()}')`);
  await h.scheduled("cleanup", next);
  const left = await h.sql<{ id: string }>("select id from sessions order by id");
  assert.deepEqual(left.map((r) => r.id), ["new-1", "new-2"]);
});
