// @both-backends
// What a guest reports never takes other records down; what it prints never
// drives the terminal; the record's id is the server's, the client's is kept
// for correlation.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Db } from "../../host/db/index.ts";
import { createApp } from "../../host/http/app.ts";
import { functionRoutes } from "../../host/http/functions.ts";
import type { Invoker, InvokeRequest } from "../../host/invoke/types.ts";
import { createLogWriter } from "../../host/logs/index.ts";
import { formatEntry } from "../../host/logs/format.ts";
import { queryLogs } from "../../host/logs/query.ts";
import type { InvocationRecord } from "../../host/logs/types.ts";
import type { ActiveFunction } from "../../host/registry/index.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { record } from "../logs/helpers.ts";

let t: TestDatabase;
let db: Db;
before(async () => {
  t = await createTestDatabase();
  db = t.db;
});
after(() => t.close());

test(`${backend}: a record with guest-made nonsense is stored sanitised, and one the database refuses costs only itself`, async () => {
  const w = createLogWriter({ db, batchSize: 100, flushMs: 10_000, nodeId: "n1" });
  const bad = record({
    functionName: "weird",
    // An unknown failure kind once made status NULL and lost the whole batch.
    status: undefined as unknown as string,
    httpStatus: Number.NaN,
    durationMs: Number.POSITIVE_INFINITY,
    startedAt: new Date(),
    error: { message: { not: "a string" } as unknown as string },
    logs: [{ level: "bogus" as never, message: 42 as unknown as string, time: new Date(Number.NaN) }],
  });
  // Not a uuid: the INSERT itself fails for this one.
  const refused = record({ functionName: "refused", id: "not-a-uuid" } as Partial<InvocationRecord>);
  for (let i = 0; i < 5; i++) w.record(record({ functionName: "good", requestId: `g-${i}` }));
  w.record(bad);
  w.record(refused);
  for (let i = 5; i < 10; i++) w.record(record({ functionName: "good", requestId: `g-${i}` }));
  await w.close();
  assert.deepEqual(w.stats(), { written: 11, dropped: 1, buffered: 0 });
  const { rows } = await db.query<{ function_name: string; n: number }>("select function_name, count(*)::int as n from hangar.invocations group by 1 order by 1");
  assert.deepEqual(rows, [{ function_name: "good", n: 10 }, { function_name: "weird", n: 1 }]);
  const weird = (await db.query<{ status: string; http_status: number; logs: { level: string; message: string }[] }>("select status, http_status, logs from hangar.invocations where function_name = 'weird'")).rows[0];
  assert.equal(weird.status, "UNKNOWN");
  assert.equal(weird.http_status, 500);
  assert.deepEqual(weird.logs.map((l) => [l.level, l.message]), [["log", "42"]]);
});

test("hangar logs escapes control characters from guest output", () => {
  const lines = formatEntry({
    id: "x", seq: "1", startedAt: new Date().toISOString(), functionName: "f", versionId: "1", trigger: "http", status: "ok", httpStatus: 200,
    durationMs: 1, cpuMs: 1, memoryBytes: 1, requestId: "r", correlationId: null, nodeId: "n",
    error: { message: "boom\u001b]0;pwned\u0007", stack: null },
    logs: [{ level: "log", message: "\u001b[2J\u001b[Hcleared\rforged\u009b31m\u202eevil\nnext line", time: new Date().toISOString() }],
  } as never);
  const text = lines.join("\n");
  assert.doesNotMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  assert.match(text, /\\u001b\[2J\\u001b\[Hcleared\\u000dforged\\u009b31m\\u202eevil/);
  assert.match(text, /next line/);
  assert.match(text, /boom\\u001b\]0;pwned\\u0007/);
});

test(`${backend}: the request id is the server's; the client's x-request-id is kept as correlation`, async () => {
  let seen: InvokeRequest | undefined;
  const w = createLogWriter({ db, flushMs: 10_000, nodeId: "n1" });
  const invoker: Invoker = {
    async invoke(req) {
      seen = req;
      w.record(record({ functionName: "corr", requestId: req.requestId!, correlationId: req.correlationId }));
      return { requestId: req.requestId!, functionName: req.functionName, versionId: "1", response: new Response("ok"), stats: { cpuMs: 0, wallMs: 0, memoryBytes: 0 } };
    },
  };
  const fn = { name: "corr", versionId: "1", version: 1, hash: "h", config: { auth: "public" } } as unknown as ActiveFunction;
  const app = createApp({
    db,
    version: "t",
    nodeId: "n",
    mount: (a: import("hono").Hono) => a.route("/functions/v1", functionRoutes({ invoker, lookup: () => fn, authenticate: async () => ({ ok: true, claims: null }), maxBodyBytes: 1024 })),
  });
  const res = await app.request("/functions/v1/corr", { headers: { "x-request-id": "victims-request-id" } });
  assert.equal(res.status, 200);
  const id = res.headers.get("x-request-id")!;
  assert.notEqual(id, "victims-request-id");
  assert.equal(seen!.requestId, id);
  assert.equal(new Headers(seen!.request!.headers).get("x-request-id"), id);
  assert.equal(seen!.correlationId, "victims-request-id");
  await w.close();
  const { invocations } = await queryLogs(db, { name: "corr" });
  assert.deepEqual(invocations.map((e) => [e.requestId, e.correlationId]), [[id, "victims-request-id"]]);
});
