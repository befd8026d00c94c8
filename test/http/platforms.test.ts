// Functions written as Supabase, Cloudflare Workers and Deno document them, deployed with the
// real CLI and called through a real port: paths, routes, imports, Node built-ins, secrets.
import assert from "node:assert/strict";
import { cp, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import Stripe from "stripe";
import { fakeRegistry, moduleServer, type Loopback } from "../build/module-server.ts";
import { runCli, startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { createPgDatabase, dropPgDatabase } from "../helpers/db.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/platforms", import.meta.url));
const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WEBHOOK_SECRET = "whsec_test_secret";

let dbUrl: string;
let dir: string;
let env: Record<string, string>;
let server: ServerProcess;
let modules: Loopback;
let registry: Loopback;

const cli = (args: string[]) => runCli(args, env, { cwd: dir, timeoutMs: 120_000 });

before(async () => {
  dbUrl = await createPgDatabase();
  dir = await mkdtemp(join(tmpdir(), "hangar-platforms-"));
  await cp(FIXTURES, join(dir, "functions"), { recursive: true });
  await symlink(join(REPO, "node_modules"), join(dir, "node_modules"), "dir");
  modules = await moduleServer({ "/std/strings.ts": `export const exclaim = (s: string): string => s + "!";\n` });
  registry = await fakeRegistry([
    { name: "hangar-fake-upper", version: "2.0.1", files: { "index.js": `export const upper = (s) => s.toUpperCase();\n` } },
    { name: "@jsr/std__pad", version: "1.0.0", files: { "index.js": `export const pad = (s) => "[" + s + "]";\n` } },
  ]);
  await writeFile(join(dir, ".npmrc"), `registry=${registry.url}/\n@jsr:registry=${registry.url}/\ncache=${join(dir, ".npm-cache")}\n`);
  await writeFile(join(dir, "functions", "imports.ts"), [
    `import { upper } from "npm:hangar-fake-upper@^2";`,
    `import { pad } from "jsr:@std/pad@^1";`,
    `import { exclaim } from "${modules.url}/std/strings.ts";`,
    `export default { fetch: () => new Response(pad(exclaim(upper("mixed")))) };`,
    ``,
  ].join("\n"));
  env = { DATABASE_URL: dbUrl, HANGAR_ADMIN_TOKEN: "admin-token", HANGAR_SECRET_KEY: "secret-key" };
  for (const kv of [`STRIPE_API_KEY=sk_test_123`, `STRIPE_WEBHOOK_SIGNING_SECRET=${WEBHOOK_SECRET}`, "SUPABASE_URL=https://abc.supabase.co", "SUPABASE_ANON_KEY=anon-key"]) {
    const r = await cli(["secrets", "set", kv]);
    assert.equal(r.code, 0, r.stderr);
  }
  const r = await cli(["deploy", "--dir", join(dir, "functions")]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  server = await startServerProcess(["start"], env, { cwd: dir });
});

after(async () => {
  await server?.kill();
  await modules?.close();
  await registry?.close();
  await dropPgDatabase(dbUrl);
  await rm(dir, { recursive: true, force: true });
});

describe("the three platforms' shapes over a real port", () => {
  test("Supabase: a Hono app with basePath('/<name>') under /functions/v1, query kept", async () => {
    const res = await fetch(`${server.url}/functions/v1/supa/hello/ada?x=1`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { hello: "ada", url: `${server.url}/supa/hello/ada?x=1` });
    const echo = await fetch(`${server.url}/functions/v1/supa/echo`, { method: "POST", body: JSON.stringify({ a: 1 }), headers: { "content-type": "application/json" } });
    assert.deepEqual(await echo.json(), { a: 1 });
  });

  test("Workers: an itty-router module on config.routes sees the URL unchanged", async () => {
    const res = await fetch(`${server.url}/api/items/42?full=1`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { id: "42", url: `${server.url}/api/items/42?full=1` });
    assert.equal((await fetch(`${server.url}/api/nothing`)).status, 404);
    // Not under a route: Hangar's own 404.
    const none = await fetch(`${server.url}/elsewhere`);
    assert.equal(none.status, 404);
    assert.equal((await none.json()).error.code, "NOT_FOUND");
    // Hangar's own paths are never shadowed.
    assert.equal((await fetch(`${server.url}/_hangar/health`)).status, 200);
  });

  test("Workers: a host route serves that host only", async () => {
    const { port } = new URL(server.url);
    const get = (host: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port, path: "/anything?q=1", headers: { host } }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode!, body }));
      });
      req.on("error", reject);
      req.end();
    });
    const hit = await get(`api.example.test:${port}`);
    assert.equal(hit.status, 200, hit.body);
    assert.deepEqual(JSON.parse(hit.body), { host: "api.example.test", path: "/anything" });
    assert.equal((await get(`other.example.test:${port}`)).status, 404);
  });

  test("Deno: a Deno.serve router on a route", async () => {
    const res = await fetch(`${server.url}/books/1`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { id: "1", title: "The Left Hand of Darkness" });
    assert.equal((await fetch(`${server.url}/books/2`)).status, 404);
  });

  test("npm:, jsr: and an https:// module, resolved at deploy from loopback servers", async () => {
    const res = await fetch(`${server.url}/functions/v1/imports`);
    assert.equal(await res.text(), "[MIXED!]");
  });

  test("node:buffer", async () => {
    const res = await fetch(`${server.url}/functions/v1/buffer`, { method: "POST", body: new Uint8Array([1, 2, 255]) });
    assert.deepEqual(await res.json(), { hex: "0102ff", base64: "aGVsbG8=", isBuffer: true });
  });

  test("stripe: webhook signatures verified with the worker build and Web Crypto", async () => {
    const payload = JSON.stringify({ id: "evt_1", object: "event", type: "payment_intent.succeeded", data: { object: {} } });
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    const ok = await fetch(`${server.url}/functions/v1/stripe-webhook`, { method: "POST", body: payload, headers: { "stripe-signature": header } });
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.deepEqual(await ok.json(), { ok: true, type: "payment_intent.succeeded" });
    const forged = Stripe.webhooks.generateTestHeaderString({ payload, secret: "whsec_wrong" });
    const bad = await fetch(`${server.url}/functions/v1/stripe-webhook`, { method: "POST", body: payload, headers: { "stripe-signature": forged } });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /signature/i);
  });

  test("a module-scope client built from secrets deploys and serves", async () => {
    const res = await fetch(`${server.url}/functions/v1/client`);
    assert.deepEqual(await res.json(), { host: "abc.supabase.co", keyLength: 8, fromProcess: "https://abc.supabase.co" });
  });
});

describe("deploy-time refusals and the lock", () => {
  test("a redeploy with --offline uses the lock and cache only", async () => {
    await modules.close();
    await registry.close();
    const r = await cli(["deploy", "imports", "--dir", join(dir, "functions"), "--offline"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /imports: unchanged/);
  });

  test("a route another function serves is refused, naming both", async () => {
    const other = await mkdtemp(join(tmpdir(), "hangar-clash-"));
    try {
      await writeFile(join(other, "clash.ts"), `export const config = { routes: ["/api/*"] };\nexport default { fetch: () => new Response("x") };\n`);
      const r = await cli(["deploy", "--dir", other]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /function "clash": config\.routes: "\/api\/\*" is already served by function "itty" \("\/api\/\*"\)/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  test("a schedule without a scheduled handler is refused at deploy", async () => {
    const other = await mkdtemp(join(tmpdir(), "hangar-nosched-"));
    try {
      await writeFile(join(other, "tick.ts"), `export const config = { schedule: "* * * * *" };\nexport default { fetch: () => new Response("x") };\n`);
      const r = await cli(["deploy", "--dir", other]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /function "tick": config\.schedule is set but the module exports no scheduled handler/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  test("a throw at module scope reports the TypeScript line, not bundle.js", async () => {
    const other = await mkdtemp(join(tmpdir(), "hangar-toplevel-"));
    try {
      await writeFile(join(other, "broken.ts"), `const url: string | undefined = undefined;\n\nif (!url) throw new Error("SOME_URL is required");\nexport default { fetch: () => new Response("x") };\n`);
      const r = await cli(["deploy", "--dir", other]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /function "broken": evaluating the module threw Error: SOME_URL is required/);
      assert.match(r.stderr, /broken\.ts:3:\d+/);
      assert.doesNotMatch(r.stderr, /bundle\.js/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
