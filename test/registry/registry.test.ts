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
