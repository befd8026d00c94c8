// @both-backends
// A deploy in a server evaluates the bundle once: the validation instance
// becomes the new version's warm instance (the pre-warm finds it), and this
// instance's bundle cache is filled by the deploy.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import { resolveConfig } from "../../host/config/index.ts";
import { registryOps } from "../../host/registry/admin.ts";
import type { DeployResult } from "../../host/registry/index.ts";
import { createRuntime, type Runtime } from "../../runtime/index.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let t: TestDatabase;
let rt: Runtime;
before(async () => {
  t = await createTestDatabase();
  rt = await createRuntime({ threads: 0, memoryBudgetMb: 256 });
});
after(async () => {
  await rt.close();
  await t.close();
});

const bundle = (body: string) => `globalThis.__hangar_exports = { ${body} default: { fetch: async () => new Response(String(globalThis.loads = (globalThis.loads ?? 0) + 1)) } };`;

async function deploy(name: string, code: string) {
  const seeded = new Map<string, string>();
  const ctx = { db: t.db, config: resolveConfig("cli", {}, {}), actor: "test", runtime: rt, bundles: { seed: (id: string, b: { code: string }) => void seeded.set(id, b.code) } };
  const hash = createHash("sha256").update(code).digest("hex");
  const result = (await registryOps["functions.deploy"](ctx, { name, code, hash })) as DeployResult;
  return { result, seeded, validationId: `deploy:${name}:${hash}` };
}

test(`${backend}: the deploy's validation instance is handed to the version, not evaluated again`, async () => {
  const code = bundle("");
  const { result, seeded, validationId } = await deploy("warm-fn", code);
  assert.equal(rt.get(validationId), undefined, "the validation id is gone");
  const inst = rt.get(result.versionId);
  assert.ok(inst, "the version has a warm instance before any pre-warm or request");
  assert.deepEqual([...seeded], [[result.versionId, code]], "the bundle cache was given the version's bundle");
  assert.equal(await rt.load(result.versionId, code, { limits: resolveConfig("cli", {}, {}).defaultLimits }), inst);

  // the same content again is unchanged: nothing handed over, the validation instance dropped
  const again = await deploy("warm-fn", code);
  assert.equal(again.result.unchanged, true);
  assert.equal(again.seeded.size, 0);
  assert.equal(rt.get(again.validationId), undefined);
  assert.equal(rt.get(result.versionId), inst);
});

test(`${backend}: a version with its own memory class gets no handed-over instance (a different snapshot)`, async () => {
  const { result, validationId } = await deploy("big-fn", bundle(`config: { limits: { memoryMb: 64 } },`));
  assert.equal(rt.get(validationId), undefined);
  assert.equal(rt.get(result.versionId), undefined);
});
