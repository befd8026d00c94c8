import assert from "node:assert/strict";
import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { BuildError, discoverFunctions } from "../../host/build/index.ts";
import { project } from "./fixtures.ts";

test("finds <name>.ts and <name>/index.ts, ignores helpers, tests and non-code; sorted", async () => {
  const p = await project({ nodeModules: false });
  try {
    const w = (f: string) => p.write(`functions/${f}`, "export default () => new Response('x');\n");
    await Promise.all([
      w("zeta.ts"), w("hello.ts"), w("search/index.ts"), w("search/embed.ts"), w("on-signup.mts"), w("legacy.js"),
      w("_shared/db.ts"), w("_draft.ts"), w(".hidden.ts"), w("hello.test.ts"), w("types.d.ts"), w("README.md"),
      w("lib/util.ts"), // a folder without an index is shared code
      w("0day/index.js"),
    ]);
    await mkdir(join(p.dir, "functions", "node_modules", "x"), { recursive: true });
    await symlink(join(p.dir, "functions", "hello.ts"), join(p.dir, "functions", "hi.ts"));
    const found = await discoverFunctions(join(p.dir, "functions"));
    assert.deepEqual(found.map((f) => f.name), ["0day", "hello", "hi", "legacy", "on-signup", "search", "zeta"]);
    const search = found.find((f) => f.name === "search")!;
    assert.equal(search.entry, join(p.dir, "functions", "search", "index.ts"));
  } finally {
    await p.close();
  }
});

test("invalid names and duplicates are errors naming the file", async () => {
  const p = await project({ nodeModules: false });
  try {
    const w = (f: string) => p.write(`functions/${f}`, "export default 1;\n");
    await Promise.all([w("Hello.ts"), w("my_fn.ts"), w("-x/index.ts"), w(`${"a".repeat(64)}.ts`), w("ok.ts"), w("dup.ts"), w("dup/index.ts")]);
    const err = await discoverFunctions(join(p.dir, "functions")).then(() => null, (e) => e);
    assert.ok(err instanceof BuildError);
    assert.equal(err.code, "BUILD_FAILED");
    assert.match(err.message, /functions\/Hello\.ts: "Hello" is not a valid function name \(lowercase letters, digits and "-"/);
    assert.match(err.message, /functions\/my_fn\.ts: "my_fn" is not a valid function name/);
    assert.match(err.message, /functions\/-x\/index\.ts: "-x" is not a valid function name/);
    assert.match(err.message, /functions\/a{64}\.ts: "a{64}" is not a valid function name/);
    assert.match(err.message, /functions\/dup(\/index)?\.ts: function "dup" is already defined by \/.*functions\/dup(\/index)?\.ts$/m);
    assert.equal(err.message.split("\n").length, 5);
  } finally {
    await p.close();
  }
});

test("a missing directory is a BuildError", async () => {
  await assert.rejects(discoverFunctions("/nonexistent/functions"), (e: unknown) => e instanceof BuildError && /functions directory not found/.test(e.message));
});
