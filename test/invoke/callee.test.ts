// QuickJS's bare "not a function" names its callee, read from the bundle at
// the failing call (V8's wording), in what the invocation reports.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { nameCallee } from "../../host/invoke/callee.ts";
import { createTestHangar } from "../../host/testing/index.ts";

const at = (line: number, col: number) => `    at fetch (bundle.js:${line}:${col})\n    at run (hangar:prelude.js:19:4)\n`;

test("the callee is read from the bundle at the failing call: a member chain, a plain name, optional chaining", () => {
  const code = "first line\n  try { crypto.subtle.foo(1, 2); } catch {}\n  const x = 1; x();\n  a?.b.c_d$();";
  assert.equal(nameCallee("not a function", at(2, 23), code, "bundle.js"), "crypto.subtle.foo is not a function");
  assert.equal(nameCallee("not a function", at(3, 16), code, "bundle.js"), "x is not a function");
  assert.equal(nameCallee("not a function", at(4, 8), code, "bundle.js"), "a?.b.c_d$ is not a function");
  // anything else is left as it was: another message, no bundle frame, a position past the code, no name there
  assert.equal(nameCallee("boom", at(2, 23), code, "bundle.js"), "boom");
  assert.equal(nameCallee("not a function", "    at f (other.js:2:23)\n", code, "bundle.js"), "not a function");
  assert.equal(nameCallee("not a function", at(9, 1), code, "bundle.js"), "not a function");
  assert.equal(nameCallee("not a function", at(2, 1), code, "bundle.js"), "not a function");
});

test("an uncaught call of a missing member names it, in a real sandbox through the invoker", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "hangar-callee-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "missing.ts"), `export default {
  async scheduled() {
    const subtle = crypto.subtle as unknown as Record<string, (...a: unknown[]) => unknown>;
    if (typeof subtle.foo !== "undefined") throw new Error("feature checks see foo");
    subtle.foo(1);
  },
};
`);
  const h = await createTestHangar({ dir });
  t.after(() => h.close());
  await assert.rejects(h.scheduled("missing"), /subtle\.foo is not a function/);
});
