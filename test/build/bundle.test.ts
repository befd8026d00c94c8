import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import vm from "node:vm";
import { BuildError, bundleFunction, isNodeBuiltin } from "../../host/build/index.ts";
import { project, type Project } from "./fixtures.ts";

const FN = `import { sql, vector, type Env, type Context } from "hangar";
import { Hono } from "hono";
import { greet } from "./lib/greet.ts";

const app = new Hono();
app.get("/hi/:name", (c) => c.text(greet(c.req.param("name"))));

export default {
  fetch: (req: Request, _env: Env, _ctx: Context) => app.fetch(req),
  sql: () => sql,
  vector: () => vector,
};
export const config = { schedule: "*/5 * * * *", events: ["orders:insert"] };
`;

function evaluate(code: string, extra: Record<string, unknown> = {}) {
  const ctx: Record<string, any> = {
    __hangar: { sql: "fake-sql", vector: "fake-vector" },
    Request, Response, Headers, URL, TextEncoder, TextDecoder,
    ...extra,
  };
  vm.runInNewContext(code, ctx, { filename: "bundle.js" });
  return ctx.__hangar_exports;
}

describe("bundleFunction", () => {
  let p: Project;
  before(async () => {
    p = await project();
    await p.write("functions/lib/greet.ts", `export const greet = (n: string): string => \`hello \${n}\`;\n`);
  });
  after(() => p.close());

  test("bundles hangar, a local module and an npm package into an ES module exposing the namespace", async () => {
    const entry = await p.write("functions/app.ts", FN);
    const t0 = performance.now();
    const b = await bundleFunction(entry, { cwd: p.dir });
    const ms = performance.now() - t0;
    assert.match(b.code, /^\/\/ hangar:module\n/);
    assert.match(b.code, /globalThis\.__hangar_exports = /);
    assert.equal(b.hash, createHash("sha256").update(b.code).digest("hex"));
    assert.equal(b.bytes, Buffer.byteLength(b.code));
    const map = JSON.parse(b.map);
    assert.ok(map.sources.includes("functions/app.ts"), map.sources.join(","));
    assert.ok(map.sources.some((s: string) => s.includes("node_modules/hono/")));
    assert.equal(map.sourcesContent.length, map.sources.length);

    const ns = evaluate(b.code);
    assert.deepEqual(JSON.parse(JSON.stringify(ns.config)), { schedule: "*/5 * * * *", events: ["orders:insert"] });
    assert.equal(ns.default.sql(), "fake-sql");
    assert.equal(ns.default.vector(), "fake-vector");
    const res = await ns.default.fetch(new Request("http://localhost/hi/ada"));
    assert.equal(await res.text(), "hello ada");
    console.log(`# bundle with hono: ${b.bytes} bytes in ${ms.toFixed(0)} ms`);
  });

  test("the same source gives the same hash", async () => {
    const entry = await p.write("functions/app.ts", FN);
    const [a, b] = await Promise.all([bundleFunction(entry, { cwd: p.dir }), bundleFunction(entry, { cwd: p.dir })]);
    assert.equal(a.hash, b.hash);
  });

  test("a bare default function and Deno.serve bundle; type-only hangar imports vanish", async () => {
    const bare = await p.write("functions/bare.ts",
      `import type { Env } from "hangar";\nexport default async (req: Request, env: Env) => new Response("hi");\n`);
    const ns = evaluate((await bundleFunction(bare, { cwd: p.dir })).code);
    assert.equal(typeof ns.default, "function");
    const deno = await p.write("functions/deno/index.ts", `Deno.serve(async () => new Response("hi"));\n`);
    let served = 0;
    evaluate((await bundleFunction(deno, { cwd: p.dir })).code, { Deno: { serve: () => served++ } });
    assert.equal(served, 1);
  });

  test("npm: specifiers (Supabase style) resolve to the installed package", async () => {
    const entry = await p.write("functions/npmspec.ts",
      `import { Hono } from "npm:hono@4";\nexport default new Hono().get("/", (c) => c.text("ok"));\n`);
    const ns = evaluate((await bundleFunction(entry, { cwd: p.dir })).code);
    assert.equal(await (await ns.default.fetch(new Request("http://x/"))).text(), "ok");
  });

  const refusals: [string, string, RegExp][] = [
    ["node-fs", `export const a = 1;\nimport { readFileSync } from "node:fs";\nexport default readFileSync;\n`,
      /^functions\/node-fs\.ts:2:30: "node:fs" cannot be used in a Hangar function: there is no file system in the sandbox.*\n {4}import \{ readFileSync \} from "node:fs";$/m],
    ["bare-fs", `import fs from "fs";\nexport default fs;\n`,
      /^functions\/bare-fs\.ts:1:16: "fs" cannot be used in a Hangar function: there is no file system/m],
    ["child", `import { greet } from "./lib/greet.ts";\n\nimport { spawn } from "child_process";\nexport default [greet, spawn];\n`,
      /^functions\/child\.ts:3:23: "child_process" cannot be used in a Hangar function: functions cannot start processes/m],
    ["net", `import net from "node:net";\nexport default net;\n`,
      /^functions\/net\.ts:1:17: "node:net" cannot be used in a Hangar function: there are no sockets in the sandbox: use fetch\(\)/m],
    ["missing", `import left from "left-pad-that-does-not-exist";\nexport default left;\n`,
      /^functions\/missing\.ts:1:18: Could not resolve "left-pad-that-does-not-exist": not a file, and not installed/m],
    ["missing-local", `import { y } from "./nope.ts";\nexport default y;\n`,
      /^functions\/missing-local\.ts:1:19: Could not resolve "\.\/nope\.ts"/m],
    // a closed loopback port: tests never reach the internet
    ["remote", `import x from "https://127.0.0.1:1/x/y/mod.ts";\nexport default x;\n`,
      /^functions\/remote\.ts:1:15: fetching https:\/\/127\.0\.0\.1:1\/x\/y\/mod\.ts failed/m],
  ];
  for (const [name, src, re] of refusals) {
    test(`refuses ${name} with file:line:column and the import`, async () => {
      const entry = await p.write(`functions/${name}.ts`, src);
      const err = await bundleFunction(entry, { cwd: p.dir }).then(() => null, (e) => e);
      assert.ok(err instanceof BuildError, String(err));
      assert.equal(err.code, "BUILD_FAILED");
      assert.ok(err.cause, "keeps the esbuild failure as cause");
      assert.match(err.message, /^bundling functions\/.+ failed:\n/);
      assert.match(err.message, re);
    });
  }

  test("unused type-position imports of built-ins are erased, as TypeScript does", async () => {
    const entry = await p.write("functions/unused.ts", `import type { Stats } from "node:fs";\nimport { readFileSync } from "node:fs";\nexport default (s: Stats) => 1;\n`);
    await bundleFunction(entry, { cwd: p.dir });
  });

  test("lists every error, not only the first", async () => {
    const entry = await p.write("functions/many.ts", `import "node:fs";\nimport "os";\nimport "nope-nope";\n`);
    const err = await bundleFunction(entry, { cwd: p.dir }).then(() => null, (e) => e);
    assert.ok(err instanceof BuildError);
    assert.equal(err.message.split("\n").filter((l: string) => l.startsWith("functions/many.ts:")).length >= 3, true, err.message);
  });

  test("refuses a bundle over the size limit, stating size and limit", async () => {
    const entry = await p.write("functions/app.ts", FN);
    const err = await bundleFunction(entry, { cwd: p.dir, maxBytes: 10_000 }).then(() => null, (e) => e);
    assert.ok(err instanceof BuildError);
    assert.match(err.message, /^bundle for functions\/app\.ts is \d+\.\d KiB \(\d+ bytes\), over the limit of 9\.8 KiB \(10000 bytes\); largest inputs: npm:hono /);
  });

  test("default size limit is 10 MiB", async () => {
    const entry = await p.write("functions/big.ts", `export default ${JSON.stringify("x".repeat(10 * 1024 * 1024))};\n`);
    const err = await bundleFunction(entry, { cwd: p.dir }).then(() => null, (e) => e);
    assert.ok(err instanceof BuildError);
    assert.match(err.message, /over the limit of 10\.00 MiB \(10485760 bytes\)/);
  });
});

test("isNodeBuiltin", () => {
  for (const s of ["fs", "node:fs", "fs/promises", "child_process", "node:test", "path/posix", "crypto"]) assert.ok(isNodeBuiltin(s), s);
  for (const s of ["hono", "fsevents", "./fs", "pathe"]) assert.ok(!isNodeBuiltin(s), s);
});
