// @both-backends
// A deploy in a server evaluates the bundle once: the evaluation's snapshot is
// what the version's pre-warm restores, and the deploy gives this instance's
// bundle cache the version's bundle (the pre-warm does not fetch it back)
// and switches this instance's registry before it returns.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import { resolveConfig } from "../../host/config/index.ts";
import { registryOps } from "../../host/registry/admin.ts";
import type { DeployResult } from "../../host/registry/index.ts";
import { createRuntime, type Runtime } from "../../runtime/index.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { waitFor } from "../helpers/wait.ts";

let t: TestDatabase;
let rt: Runtime;
before(async () => {
  t = await createTestDatabase();
  rt = await createRuntime({ threads: 1, memoryBudgetMb: 256 });
});
after(async () => {
  await rt.close();
  await t.close();
});

test(`${backend}: a deploy seeds the bundle cache and its evaluation is what the pre-warm restores`, async () => {
  const code = `console.log("top level"); globalThis.__hangar_exports = { default: { fetch: async () => new Response("ok") } };`;
  const hash = createHash("sha256").update(code).digest("hex");
  const seeded = new Map<string, string>();
  const config = resolveConfig("cli", {}, {});
  let refreshed = 0;
  const registry = { seed: (id: string, b: { code: string }) => void seeded.set(id, b.code), refresh: async () => void refreshed++ };
  const ctx = { db: t.db, config, actor: "test", runtime: rt, registry };
  const result = (await registryOps["functions.deploy"](ctx, { name: "seeded-fn", code, hash })) as DeployResult;
  assert.deepEqual([...seeded], [[result.versionId, code]]);
  assert.equal(refreshed, 1, "the switch was applied to this instance's registry before the deploy returned");
  assert.equal(rt.get(`deploy:seeded-fn:${hash}`), undefined, "the validation instance is gone");
  const logs: string[] = [];
  const inst = await rt.load(result.versionId, code, { limits: config.defaultLimits, onConsole: (_l, m) => void logs.push(m) });
  assert.deepEqual(logs, [], "the version was restored from the deploy's snapshot, not evaluated again");
  const o = await inst.fetch(new Request("http://x/"), { requestId: "r", env: {}, auth: null, limits: config.defaultLimits, host: {} });
  assert.ok(o.ok && (await o.value.text()) === "ok");

  // the same content again is unchanged: nothing seeded
  seeded.clear();
  const again = (await registryOps["functions.deploy"](ctx, { name: "seeded-fn", code, hash })) as DeployResult;
  assert.equal(again.unchanged, true);
  assert.equal(seeded.size, 0);
  assert.equal(refreshed, 1, "nothing switched: no refresh");
});

test(`${backend}: the bundle is stored while it is evaluated (on Postgres); an evaluation that fails stores nothing`, async () => {
  const code = `const t = Date.now(); while (Date.now() - t < 4000) {} throw new Error("top level gave up");`;
  const hash = createHash("sha256").update(code).digest("hex");
  const base = resolveConfig("cli", {}, {});
  const ctx = { db: t.db, config: { ...base, defaultLimits: { ...base.defaultLimits, cpuMs: 10_000 } }, actor: "test", runtime: rt };
  const deploying = registryOps["functions.deploy"](ctx, { name: "slow-fail", code, hash });
  deploying.catch(() => {});
  if (backend === "postgres") {
    await waitFor("the version written, its transaction waiting on the evaluation", async () => (await t.db.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity
       where datname = current_database() and state = 'idle in transaction' and query like 'insert into hangar.versions%'`,
    )).rows[0].n === 1);
  }
  await assert.rejects(deploying, /top level gave up/);
  const { rows } = await t.db.query<{ v: number; f: number }>(
    "select (select count(*)::int from hangar.versions where function_name = 'slow-fail') as v, (select count(*)::int from hangar.functions where name = 'slow-fail') as f",
  );
  assert.deepEqual(rows[0], { v: 0, f: 0 }, "rolled back: no version, no function");
});
