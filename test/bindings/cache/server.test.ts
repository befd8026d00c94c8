// The Cache API through a real port: a function answers its second request
// from caches.default (cf-cache-status: HIT); another function, on the same
// server, does not see its entry.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createTestDatabase } from "../../helpers/db.ts";
import { devConfig, serveDeployed } from "../../helpers/server.ts";

test("a function's cached response is answered on its next request, and only to that function", { timeout: 120_000 }, async () => {
  const t = await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), "hangar-cache-"));
  const KEY = "https://cache.test/page";
  await writeFile(join(dir, "pages.ts"), `let made = 0;
export default { async fetch() {
  const hit = await caches.default.match("${KEY}");
  if (hit) return hit;
  const res = new Response("made " + ++made, { headers: { "cache-control": "max-age=60" } });
  await caches.default.put("${KEY}", res.clone());
  return res;
} };`);
  await writeFile(join(dir, "other.ts"), `export default { async fetch() { return Response.json({ seen: (await caches.default.match("${KEY}")) !== undefined }); } };`);
  const server = await serveDeployed(devConfig(dir), t.db);
  try {
    const first = await fetch(`${server.url}/functions/v1/pages`);
    assert.equal(await first.text(), "made 1");
    assert.equal(first.headers.get("cf-cache-status"), null);
    const second = await fetch(`${server.url}/functions/v1/pages`);
    assert.equal(await second.text(), "made 1");
    assert.equal(second.headers.get("cf-cache-status"), "HIT");
    assert.deepEqual(await (await fetch(`${server.url}/functions/v1/other`)).json(), { seen: false });
  } finally {
    await server.close();
    await t.close();
    await rm(dir, { recursive: true, force: true });
  }
});
