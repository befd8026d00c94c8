// Imports resolved at deploy and locked: https:// modules, npm:, jsr:, import maps, esm.sh,
// against loopback servers only. Bundles run in the real sandbox runtime.
import assert from "node:assert/strict";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BuildError, bundleFunction, type Bundle } from "../../host/build/index.ts";
import { createRuntime, type Runtime } from "../../runtime/index.ts";
import { project, type Project } from "./fixtures.ts";
import { fakeRegistry, moduleServer, type Loopback } from "./module-server.ts";

const LIMITS = { cpuMs: 2000, wallMs: 5000, memoryMb: 128, subrequests: 5 };
let rt: Runtime;
let n = 0;

async function call(b: Bundle, path = "/", env: Record<string, string> = {}): Promise<string> {
  const inst = await rt.load(`imports-${n++}`, b.code, { limits: LIMITS, env });
  const o = await inst.fetch(new Request(`http://x${path}`), { requestId: "r", env, auth: null, limits: LIMITS, host: {} });
  assert.ok(o.ok, JSON.stringify(!o.ok && o.error));
  return o.value.text();
}

async function fails(p: Promise<unknown>, re: RegExp): Promise<string> {
  const err = await p.then(() => null, (e) => e);
  assert.ok(err instanceof BuildError, `expected a BuildError, got ${String(err)}`);
  assert.match(err.message, re);
  return err.message;
}

before(async () => {
  rt = await createRuntime({});
});
after(() => rt.close());

describe("https:// modules: fetched once, cached, pinned in hangar.lock.json", () => {
  let p: Project;
  let server: Loopback;
  const files: Record<string, string> = {
    "/lib/mod.ts": `import { twice } from "./dep.ts";\nexport const shout = (s: string): string => twice(s.toUpperCase());\n`,
    "/lib/dep.ts": `export const twice = (s: string) => s + s;\n`,
    "/other.js": `export default 42;\n`,
  };
  let modUrl: string;
  before(async () => {
    p = await project();
    server = await moduleServer(files, { "/latest/mod.ts": "/lib/mod.ts" });
    modUrl = `${server.url}/latest/mod.ts`;
    await p.write("functions/remote.ts", `import { shout } from "${modUrl}";\nexport default { fetch: () => new Response(shout("hi")) };\n`);
  });
  after(async () => {
    await server.close();
    await p.close();
  });

  test("first deploy fetches and locks every module, following a redirect for relative imports", async () => {
    const b = await bundleFunction(join(p.dir, "functions/remote.ts"), { cwd: p.dir });
    assert.equal(await call(b), "HIHI");
    const lock = JSON.parse(await readFile(join(p.dir, "functions/hangar.lock.json"), "utf8"));
    assert.deepEqual(Object.keys(lock.remote).sort(), [`${server.url}/latest/mod.ts`, `${server.url}/lib/dep.ts`].sort());
    assert.equal(lock.remote[modUrl].redirect, `${server.url}/lib/mod.ts`);
    assert.match(lock.remote[modUrl].integrity, /^sha256-[A-Za-z0-9+/]+=*$/);
  });

  test("a locked, cached deploy works offline and never reaches the server", async () => {
    const before = server.hits.length;
    const b = await bundleFunction(join(p.dir, "functions/remote.ts"), { cwd: p.dir, offline: true });
    assert.equal(await call(b), "HIHI");
    assert.equal(server.hits.length, before, "no request while the lock and cache hold the modules");
  });

  test("offline refuses a module that is not locked, naming it", async () => {
    const entry = await p.write("functions/unlocked.ts", `import x from "${server.url}/other.js";\nexport default { fetch: () => new Response(String(x)) };\n`);
    await fails(bundleFunction(entry, { cwd: p.dir, offline: true }), new RegExp(`"${server.url}/other\\.js" is not in .*hangar\\.lock\\.json, and --offline forbids fetching it`));
  });

  test("a remote module that changed since it was locked is refused, naming the URL and both hashes", async () => {
    const lock = JSON.parse(await readFile(join(p.dir, "functions/hangar.lock.json"), "utf8"));
    const locked = lock.remote[`${server.url}/lib/dep.ts`].integrity as string;
    files["/lib/dep.ts"] = `export const twice = (s: string) => s + "!" + s;\n`;
    // A fresh machine: the lock is committed, the cache is not.
    await rm(join(p.dir, ".hangar"), { recursive: true, force: true });
    const msg = await fails(bundleFunction(join(p.dir, "functions/remote.ts"), { cwd: p.dir }), /remote module .*\/lib\/dep\.ts changed since it was locked/);
    assert.ok(msg.includes(`${server.url}/lib/dep.ts`), msg);
    assert.ok(msg.includes(locked), `names the locked hash: ${msg}`);
    const now = /the server now sends (sha256-\S+?)\./.exec(msg)?.[1];
    assert.ok(now && now !== locked, msg);
  });
});

describe("npm: and jsr: from a registry on loopback, installed into .hangar/cache and locked", () => {
  let p: Project;
  let registry: Loopback;
  before(async () => {
    registry = await fakeRegistry([
      { name: "hangar-fake-greeter", version: "1.2.3", files: { "index.js": `export const greet = (n) => "hello " + n;\n`, "extra.js": `export const extra = "extra";\n` } },
      { name: "@jsr/demo__shout", version: "0.1.4", files: { "index.js": `export const shout = (s) => s.toUpperCase() + "!";\n` } },
    ]);
    p = await project();
    await writeFile(join(p.dir, ".npmrc"), `registry=${registry.url}/\n@jsr:registry=${registry.url}/\ncache=${join(p.dir, ".npm-cache")}\n`);
  });
  after(async () => {
    await registry.close();
    await p.close();
  });

  test("npm:pkg@range/sub and jsr:@scope/name resolve through the user's registry config, then lock", async () => {
    const entry = await p.write("functions/pkgs.ts",
      `import { greet } from "npm:hangar-fake-greeter@^1.2.0";\nimport { extra } from "npm:hangar-fake-greeter@^1.2.0/extra.js";\n` +
      `import { shout } from "jsr:@demo/shout@^0.1";\nexport default { fetch: () => new Response(shout(greet("ada")) + " " + extra) };\n`);
    const b = await bundleFunction(entry, { cwd: p.dir });
    assert.equal(await call(b), "HELLO ADA! extra");
    const lock = JSON.parse(await readFile(join(p.dir, "functions/hangar.lock.json"), "utf8"));
    assert.deepEqual(lock.npm, { "@jsr/demo__shout@^0.1": "0.1.4", "hangar-fake-greeter@^1.2.0": "1.2.3" });
    assert.ok(registry.hits.some((h) => h.includes("hangar-fake-greeter-1.2.3.tgz")), registry.hits.join("\n"));
    // And again without the network.
    await registry.close();
    const again = await bundleFunction(entry, { cwd: p.dir, offline: true });
    assert.equal(again.hash, b.hash);
  });

  test("offline, a package neither installed nor cached is refused, naming the import", async () => {
    const entry = await p.write("functions/missing.ts", `import x from "npm:hangar-not-cached@2";\nexport default { fetch: () => new Response(String(x)) };\n`);
    await fails(bundleFunction(entry, { cwd: p.dir, offline: true }), /"npm:hangar-not-cached@2": not installed in node_modules, not in .*hangar\.lock\.json, and --offline forbids installing it/);
  });

  test("an installed package outside the range is not used silently", async () => {
    const entry = await p.write("functions/old.ts", `import { Hono } from "npm:hono@^1";\nexport default new Hono();\n`);
    // hono 4 is installed; ^1 must go to the registry, which (closed) cannot answer.
    await fails(bundleFunction(entry, { cwd: p.dir, offline: true }), /"npm:hono@\^1": not installed in node_modules/);
  });
});

describe("import maps and esm.sh", () => {
  let p: Project;
  before(async () => {
    p = await project();
    await p.write("functions/_shared/greet.ts", `export const greet = (n: string) => "hi " + n;\n`);
    await p.write("functions/deno.json", `{\n  // Deno's config, comments allowed\n  "imports": { "@shared/": "./_shared/", "hono": "npm:hono@^4", },\n}\n`);
  });
  after(() => p.close());

  test("deno.json imports map bare names and prefixes", async () => {
    const entry = await p.write("functions/mapped.ts",
      `import { Hono } from "hono";\nimport { greet } from "@shared/greet.ts";\nexport default new Hono().get("/", (c) => c.text(greet("map")));\n`);
    assert.equal(await call(await bundleFunction(entry, { cwd: p.dir })), "hi map");
  });

  test("an esm.sh URL bundles the installed npm package it names, without the network", async () => {
    const entry = await p.write("functions/esmsh.ts",
      `import { Hono } from "https://esm.sh/hono@4?target=deno";\nexport default new Hono().get("/", (c) => c.text("esm"));\n`);
    assert.equal(await call(await bundleFunction(entry, { cwd: p.dir, offline: true })), "esm");
  });
});

describe("Supabase's layouts: import_map.json in the functions folder, a deno.json per function", () => {
  let p: Project;
  before(async () => {
    p = await project();
    await p.write("functions/_shared/greet.ts", `export const greet = (n: string) => "shared " + n;\n`);
    await p.write("functions/import_map.json", `{ "imports": { "shared/": "./_shared/", "greeter": "./_shared/greet.ts" } }\n`);
    await p.write("functions/own/greet.ts", `export const greet = (n: string) => "own " + n;\n`);
    await p.write("functions/own/deno.json", `{ "imports": { "greeter": "./greet.ts", "hono": "npm:hono@^4" } }\n`);
  });
  after(() => p.close());

  test("import_map.json maps names and prefixes relative to itself", async () => {
    const entry = await p.write("functions/flat.ts",
      `import { greet } from "greeter";\nimport * as again from "shared/greet.ts";\nexport default { fetch: () => new Response(greet("a") + "|" + again.greet("b")) };\n`);
    assert.equal(await call(await bundleFunction(entry, { cwd: p.dir })), "shared a|shared b");
  });

  test("a folder function's own deno.json comes first, resolved from its folder", async () => {
    const entry = await p.write("functions/own/index.ts",
      `import { Hono } from "hono";\nimport { greet } from "greeter";\nexport default new Hono().get("/", (c) => c.text(greet("x")));\n`);
    assert.equal(await call(await bundleFunction(entry, { cwd: p.dir })), "own x");
  });
});

describe("ES module output", () => {
  let p: Project;
  before(async () => {
    p = await project();
  });
  after(() => p.close());

  test("top-level await runs before the handlers are read", async () => {
    const entry = await p.write("functions/tla.ts",
      `const greeting = await Promise.resolve("ready");\nconst data = await import("./_data.ts");\nexport default { fetch: () => new Response(greeting + " " + data.n) };\n`);
    await p.write("functions/_data.ts", `export const n = await Promise.resolve(7);\n`);
    assert.equal(await call(await bundleFunction(entry, { cwd: p.dir })), "ready 7");
  });

  test("Node built-ins from the polyfill set: Buffer, events, util, path, url, string_decoder, assert, stream, crypto, process.env", async () => {
    const entry = await p.write("functions/node.ts", `
import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import { format, promisify } from "node:util";
import path from "node:path";
import { URL as NodeURL } from "node:url";
import { StringDecoder } from "node:string_decoder";
import assert from "node:assert";
import { Readable } from "node:stream";
import { createHash, createHmac, randomUUID } from "node:crypto";
export default {
  async fetch() {
    const e = new EventEmitter(); let got = ""; e.on("x", (v) => (got = v)); e.emit("x", "evt");
    assert.equal(1, 1);
    const chunks: string[] = [];
    const r = new Readable({ read() {} });
    r.push("a"); r.push("b"); r.push(null);
    for await (const c of r) chunks.push(String(c));
    const out = [
      Buffer.from("hi").toString("base64"), got, format("%s=%d", "n", 5), path.join("/a", "../b"),
      new NodeURL("http://h/p?q=1").searchParams.get("q"), new StringDecoder("utf8").write(Buffer.from([0xe2, 0x82, 0xac])),
      chunks.join(""), createHash("sha256").update("x").digest("hex").slice(0, 8), createHmac("sha256", "k").update("x").digest("hex").slice(0, 8),
      typeof promisify, randomUUID().length, process.env.GREETING, Buffer.isBuffer(Buffer.alloc(1)),
    ];
    return new Response(out.join("|"));
  },
};
`);
    const text = await call(await bundleFunction(entry, { cwd: p.dir }), "/", { GREETING: "from-env" });
    assert.equal(text, "aGk=|evt|n=5|/b|1|€|ab|2d711642|c38edc88|function|36|from-env|true");
  });
});
