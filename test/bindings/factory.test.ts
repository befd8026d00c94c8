// @both-backends
// An invocation's bindings are made group by group on first use: a function
// that only fetches (or only uses the Cache API) takes no guest session
// accounting; close() closes what was made, and nothing is made after it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createBindingFactory } from "../../host/bindings/index.ts";
import { validateConfig } from "../../host/build/index.ts";
import { resolveConfig } from "../../host/config/index.ts";
import type { Db, GuestScope } from "../../host/db/index.ts";
import type { HostCallInfo } from "../../runtime/types.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { startServer, type TestServer } from "./fetch/helpers.ts";

let t: TestDatabase;
let upstream: TestServer;
const info: HostCallInfo = { requestId: "factory", signal: new AbortController().signal };
before(async () => {
  t = await createTestDatabase();
  upstream = await startServer((_req, res) => res.end("up"));
});
after(async () => {
  await upstream.close();
  await t.close();
});

test(`${backend}: bindings are made per group on first use, closed by close(), never made after it`, async () => {
  const guests: { scope: GuestScope; closed: boolean }[] = [];
  // the test database, counting the guest Dbs the bindings take and close
  const db: Db = Object.create(t.db, {
    guest: {
      value: (scope: GuestScope) => {
        const g = t.db.guest(scope);
        const entry = { scope, closed: false };
        guests.push(entry);
        return Object.create(g, { close: { value: async () => { entry.closed = true; await g.close(); } } });
      },
    },
  });
  const config = { ...resolveConfig("cli", {}, {}), fetchAllowPrivate: true };
  const make = createBindingFactory({ db, config });
  const fn = { name: "factory-fn", versionId: "1", version: 1, hash: "h", config: validateConfig("factory-fn", {}) };

  const fetching = await make({ fn, requestId: "r1", auth: null });
  const res = (await fetching.functions.fetch([{ url: `http://127.0.0.1:${upstream.port}/`, method: "GET", headers: [], body: null, redirect: "follow" }], info)) as { body: Uint8Array };
  assert.equal(Buffer.from(res.body).toString(), "up");
  await fetching.functions["cache.put"](["c", "http://x/", 200, [], new Uint8Array([1])], info);
  assert.equal(guests.length, 0, "fetch and the Cache API take no guest session");
  await fetching.close();

  const querying = await make({ fn, requestId: "r2", auth: null });
  assert.deepEqual(await querying.functions["sql.query"](["select 1 as one", [], null], info), [{ one: 1 }]);
  assert.equal(await querying.functions["vector.search"](["nothing-here", [1, 0], {}], info).then((hits) => (hits as unknown[]).length), 0);
  assert.deepEqual(guests.map((g) => [g.scope.invocationId, g.closed]), [["r2", false]], "one guest Db, shared by sql and vector");
  await querying.close();
  await querying.close();
  assert.deepEqual(guests.map((g) => g.closed), [true]);
  await assert.rejects(querying.functions["sql.query"](["select 1", [], null], info) as Promise<unknown>, (e: Error & { code?: string }) => e.code === "BINDINGS_CLOSED");
  assert.equal(guests.length, 1, "nothing made after close()");
});
