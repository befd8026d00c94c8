// Host calls keep the identity of the invocation that made them: a promise
// cached at module level and awaited by two invocations resumes each as itself.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { transformSync } from "esbuild";
import { createRuntime } from "../../runtime/index.ts";
import { ROOMY, input, moduleBundle, req } from "./helpers.ts";
import type { HostFunctions } from "../../runtime/types.ts";

const rt = await createRuntime();
after(() => rt.close());

/** As host/build/bundle.ts emits it: async/await lowered to .then. */
function lowered(body: string): string {
  return transformSync(moduleBundle(body), { target: "es2022", supported: { "async-await": false }, format: "iife" }).code;
}

// the host's answer says whose claims it ran with, like SQL run under request.jwt.claims
const host: HostFunctions = { "sql.query": async (_args, info) => [{ who: info.requestId }] };

test("a module-level promise awaited by two invocations: each one's SQL runs as itself", async () => {
  const inst = await rt.load("shared", lowered(`
    let ready;
    const handler = { async fetch(req, env, ctx) {
      ready ??= new Promise((r) => setTimeout(r, 100)); // made by the first invocation, resolved in its timer
      await ready;
      const rows = await globalThis.__hangar.sql.query("select current_setting('request.jwt.claims')", []);
      return new Response(rows[0].who);
    } };`), { limits: ROOMY });
  const [a, b] = await Promise.all([
    inst.fetch(req("/"), input({ requestId: "alice", auth: { sub: "alice" }, host, limits: ROOMY })),
    inst.fetch(req("/"), input({ requestId: "bob", auth: { sub: "bob" }, host, limits: ROOMY })),
  ]);
  assert.ok(a.ok && b.ok);
  assert.equal(await a.value.text(), "alice");
  assert.equal(await b.value.text(), "bob", "bob's SQL ran with bob's identity, not alice's");
});

test("awaiting a call whose invocation ended is refused clearly, never answered as another request", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow: HostFunctions = { "sql.query": async (_a, info) => { await gate; return [{ who: info.requestId }]; } };
  const inst = await rt.load("orphan", lowered(`
    let cached;
    const handler = { async fetch(req) {
      if (new URL(req.url).pathname === "/start") { cached = globalThis.__hangar.sql.query("select 1", []); return new Response("started"); }
      try { const rows = await cached; return new Response("got " + rows[0].who); } catch (e) { return new Response(e.message, { status: 409 }); }
    } };`), { limits: ROOMY });
  const first = await inst.fetch(req("/start"), input({ requestId: "alice", host: slow, limits: ROOMY }));
  assert.ok(first.ok);
  assert.equal(await first.value.text(), "started");
  // alice's invocation is over; bob awaits the promise her call made
  const second = inst.fetch(req("/use"), input({ requestId: "bob", host: slow, limits: ROOMY }));
  release();
  const o = await second;
  assert.ok(o.ok);
  const text = await o.value.text();
  assert.notEqual(text, "got alice");
  assert.equal(o.value.status, 409, text);
  assert.match(text, /Cannot perform I\/O on behalf of a different request/);
});
