// @both-backends
// The README's examples, run as it shows them: in process through app.request().
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, symlink, writeFile, cp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { resolveConfig } from "../../host/config/index.ts";
import { deployDir } from "../../host/dev/deploy-dir.ts";
import { createLogger } from "../../host/log/logger.ts";
import { registryOps } from "../../host/registry/admin.ts";
import type { DeployResult } from "../../host/registry/index.ts";
import { startServer, type HangarServer } from "../../host/server/index.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

const root = new URL("../../", import.meta.url).pathname;
let readme: string;
let t: TestDatabase;
let server: HangarServer;
let dir: string;

/** Code blocks that follow `<!-- readme-example: NAME -->`. */
function examples(md: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of md.matchAll(/<!-- readme-example: ([a-z0-9-]+) -->\s*```ts\n([\s\S]*?)```/g)) out.set(m[1], m[2]);
  return out;
}

before(async () => {
  readme = await readFile(join(root, "README.md"), "utf8");
  t = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), "hangar-readme-"));
  await cp(join(root, "functions"), dir, { recursive: true });
  // As in a user's project: the examples' npm imports resolve from node_modules.
  await symlink(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  for (const [name, code] of examples(readme)) await writeFile(join(dir, `${name}.ts`), code);
  const config = { ...resolveConfig("dev", { port: "0", "data-dir": join(dir, ".hangar") }, {}), functionsDir: dir };
  server = await startServer({ config, logger: createLogger({ format: "json", level: "error" }), db: t.db });
  const reports = await deployDir(dir, [], (args) =>
    registryOps["functions.deploy"]({ db: t.db, config, runtime: server.core.runtime, actor: "test", dev: true }, args) as Promise<DeployResult>,
  );
  for (const r of reports) assert.equal(r.error, undefined, `${r.name}: ${r.error}`);
  await server.core.registry.refresh(true);
});

after(async () => {
  await server?.close();
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

test("README: the hello curl answers exactly as shown", async () => {
  const shown = /curl 'http:\/\/localhost:8787(\/functions\/v1\/hello\?name=Ada)'\n(.*)\n/.exec(readme);
  assert.ok(shown, "README shows the hello curl and its output");
  const res = await server.app.request(`http://localhost:8787${shown[1]}`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), shown[2]);
  assert.ok(res.headers.get("x-request-id"));
});

test("README: the greet example answers the POST it shows", async () => {
  assert.ok(examples(readme).has("greet"));
  const res = await server.app.request("http://localhost:8787/functions/v1/greet", { method: "POST", body: '{"name":"Grace"}' });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.greeting, "Welcome, Grace");
  assert.equal(body.requestId, res.headers.get("x-request-id"));
});

test("in process: health and unknown routes", async () => {
  const health = await server.app.request("/_hangar/health");
  assert.equal(health.status, 200);
  assert.equal((await health.json()).database.kind, t.db.kind);
  const missing = await server.app.request("/nowhere");
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, "NOT_FOUND");
});

test("README: the Supabase, Workers and Deno shapes answer at the paths shown", async () => {
  const get = async (path: string) => {
    const res = await server.app.request(`http://localhost:8787${path}`);
    assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
    return res.json();
  };
  for (const [name, path] of [["supa", "/functions/v1/supa/hello/ada"], ["workers-api", "/api/items/7"], ["deno-books", "/books/1"]]) {
    assert.ok(examples(readme).get(name)?.includes(path.replace("/functions/v1", "")), `the ${name} example names ${path}`);
  }
  assert.deepEqual(await get("/functions/v1/supa/hello/ada"), { hello: "ada" });
  assert.deepEqual(await get("/api/items/7"), { id: "7" });
  assert.deepEqual(await get("/books/1"), { id: "1", title: "Dune" });
});
