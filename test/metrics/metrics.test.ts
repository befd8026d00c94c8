// @both-backends
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Db } from "../../host/db/index.ts";
import { createMetrics, fanout, metricsRoutes } from "../../host/metrics/index.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { record } from "../logs/helpers.ts";

let t: TestDatabase;
let db: Db;
before(async () => {
  t = await createTestDatabase();
  db = t.db;
});
after(() => t.close());

test(`${backend}: invocations are counted by function, trigger and status, and timed`, async () => {
  const m = createMetrics();
  m.recorder.record(record({ functionName: "hello", trigger: "http", durationMs: 3 }));
  m.recorder.record(record({ functionName: "hello", trigger: "http", durationMs: 40 }));
  m.recorder.record(record({ functionName: "nightly", trigger: "cron", status: "GUEST_THREW", httpStatus: 500 }));
  m.recorder.record(record({ functionName: "no-such-thing-abc", versionId: null, status: "NOT_FOUND", httpStatus: 404 }));
  const text = await m.registry.metrics();
  assert.match(text, /^hangar_invocations_total\{function="hello",trigger="http",status="ok"\} 2$/m);
  assert.match(text, /^hangar_invocations_total\{function="nightly",trigger="cron",status="GUEST_THREW"\} 1$/m);
  assert.match(text, /^hangar_invocations_total\{function="\(unknown\)",trigger="http",status="NOT_FOUND"\} 1$/m);
  assert.doesNotMatch(text, /no-such-thing-abc/);
  assert.match(text, /^hangar_invocation_duration_seconds_bucket\{le="0\.005",function="hello",trigger="http"\} 1$/m);
  assert.match(text, /^hangar_invocation_duration_seconds_bucket\{le="0\.05",function="hello",trigger="http"\} 2$/m);
  assert.match(text, /^hangar_invocation_duration_seconds_count\{function="hello",trigger="http"\} 2$/m);
  assert.match(text, /^# TYPE hangar_invocation_duration_seconds histogram$/m);
  // Its own registry: nothing leaks into prom-client's global one.
  const { register } = await import("prom-client");
  assert.doesNotMatch(await register.metrics(), /hangar_/);
});

test(`${backend}: gauges read the runtime, the log writer, the pool, events and cron`, async () => {
  const { rows: [ver] } = await db.query<{ id: string }>(
    `with f as (insert into hangar.functions (name) values ('m-fn') returning name)
     insert into hangar.versions (function_name, version, hash, bundle, config, deployed_by) select name, 1, 'h', '', '{}', 't' from f returning id`,
  );
  assert.ok(ver);
  for (const status of ["pending", "pending", "running", "dead", "done"]) {
    await db.query(`insert into hangar.events (function_name, schema_name, table_name, op, status) values ('m-fn', 'public', 't', 'insert', $1)`, [status]);
  }
  await db.query(
    `insert into hangar.cron_runs (function_name, scheduled_at, run_id, status, node_id, claimed_at, started_at)
     values ('m-fn', now() - interval '10 minutes', gen_random_uuid(), 'succeeded', 'n', now(), now() - interval '10 minutes' + interval '2.5 seconds')`,
  );
  let dropped = 3;
  const m = createMetrics({ db, cacheMs: 60_000 });
  m.setSources({ warmInstances: () => 4, logStats: () => ({ written: 10, dropped, buffered: 2 }) });
  const text = await m.registry.metrics();
  assert.match(text, /^hangar_instances_warm 4$/m);
  assert.match(text, /^hangar_events_backlog 3$/m);
  assert.match(text, /^hangar_events_dead 1$/m);
  assert.match(text, /^hangar_cron_lag_seconds 2\.5$/m);
  assert.match(text, /^hangar_log_entries_dropped_total 3$/m);
  assert.match(text, /^hangar_log_entries_written_total 10$/m);
  assert.match(text, /^hangar_log_entries_buffered 2$/m);
  assert.match(text, /^hangar_db_pool_connections\{state="total"\} \d+$/m);
  assert.match(text, /^hangar_db_pool_connections\{state="waiting"\} \d+$/m);
  // The database figures are cached between scrapes; the in-process ones are not.
  await db.query(`insert into hangar.events (function_name, schema_name, table_name, op, status) values ('m-fn', 'public', 't', 'insert', 'dead')`);
  dropped = 5;
  const again = await m.registry.metrics();
  assert.match(again, /^hangar_events_dead 1$/m);
  assert.match(again, /^hangar_log_entries_dropped_total 5$/m);
});

test(`${backend}: GET /_hangar/metrics serves the Prometheus text format, to the admin or metrics token only`, async () => {
  const m = createMetrics();
  m.recorder.record(record({ functionName: "hello", trigger: "notify" }));
  const routes = metricsRoutes(m.registry, ["admin-token", "metrics-token"]);
  assert.equal((await routes.request("/")).status, 401);
  assert.equal((await routes.request("/", { headers: { authorization: "Bearer wrong-token" } })).status, 401);
  assert.equal((await metricsRoutes(m.registry, ["admin-token", null]).request("/", { headers: { authorization: "Bearer " } })).status, 401);
  assert.equal((await routes.request("/", { headers: { authorization: "Bearer admin-token" } })).status, 200);
  const res = await routes.request("/", { headers: { authorization: "Bearer metrics-token" } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  assert.match(await res.text(), /hangar_invocations_total\{function="hello",trigger="notify",status="ok"\} 1/);
});

test(`${backend}: fanout feeds every recorder even when one throws`, () => {
  const got: string[] = [];
  const r = fanout({ record: () => { throw new Error("bad recorder"); } }, { record: (x) => got.push(x.requestId) }, undefined);
  r.record(record({ requestId: "x" }));
  assert.deepEqual(got, ["x"]);
});
