// @both-backends
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import { validateConfig } from "../../host/build/index.ts";
import { deployVersion, Registry } from "../../host/registry/index.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let t: TestDatabase;
before(async () => {
  t = await createTestDatabase();
});
after(() => t.close());

const deploy = (code: string) =>
  deployVersion(t.db, { name: "fn", code, map: null, hash: createHash("sha256").update(code).digest("hex"), config: validateConfig("fn", undefined), actor: "test" });

test(`${backend}: the registry follows switches and caches only active versions' bundles`, async () => {
  const registry = new Registry(t.db, { pollMs: 60_000 });
  const seen: string[][] = [];
  registry.onChange((names) => seen.push(names));
  try {
    await registry.start();
    for (let i = 1; i <= 5; i++) {
      const r = await deploy(`/* v${i} */`);
      // A plain refresh queued behind a forced one must not swallow it, and both resolve.
      await Promise.all([registry.refresh(false), registry.refresh(true)]);
      const fn = registry.get("fn")!;
      assert.equal(fn.version, r.version);
      assert.equal((await registry.bundle(fn.versionId)).code, `/* v${i} */`);
    }
    assert.equal(seen.length, 5);
    const cached = (registry as unknown as { bundles: Map<string, unknown> }).bundles;
    assert.deepEqual([...cached.keys()], [registry.get("fn")!.versionId], "old versions' bundles are dropped");
  } finally {
    await registry.close();
    await registry.close();
  }
});

test(`${backend}: a deploy whose evaluation outlasts the idle-in-transaction timeout still lands`, { skip: backend === "pglite" && "PGlite evaluates before the transaction" }, async () => {
  const { PostgresDb } = await import("../../host/db/postgres.ts");
  const db = new PostgresDb({ url: t.url!, applicationName: "hangar-test-idle", max: 2, settings: { idleInTxTimeoutMs: 300 } });
  try {
    const code = "/* slow evaluation */";
    // the config arrives after three idle timeouts, as from a large bundle's evaluation on a busy machine
    const config = new Promise<ReturnType<typeof validateConfig>>((r) => setTimeout(() => r(validateConfig("slow-fn", undefined)), 1000));
    const r = await deployVersion(db, { name: "slow-fn", code, map: null, hash: createHash("sha256").update(code).digest("hex"), config, actor: "test" });
    assert.equal(r.version, 1);
    const { rows } = await t.db.query<{ config: unknown }>("select v.config from hangar.functions f join hangar.versions v on v.id = f.active_version where f.name = 'slow-fn'");
    assert.ok(rows[0]?.config, "the version is active with its config");
  } finally {
    await db.close();
  }
});
