import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import vm from "node:vm";
import { bundleFunction, mapStack, type Bundle } from "../../host/build/index.ts";
import { project, type Project } from "./fixtures.ts";

describe("mapStack", () => {
  let p: Project;
  let b: Bundle;
  let stack: string;
  before(async () => {
    p = await project();
    await p.write("functions/lib/fail.ts", [
      "// a helper that fails",
      "export function explode(what: string): never {",
      "  const msg: string = `boom: ${what}`;",
      "  throw new Error(msg);",
      "}",
      "",
    ].join("\n"));
    const entry = await p.write("functions/failing.ts", [
      'import { sql } from "hangar";',
      'import { explode } from "./lib/fail.ts";',
      "",
      "export default async function handler(req: Request): Promise<Response> {",
      "  explode(String(sql));",
      "}",
      "",
    ].join("\n"));
    b = await bundleFunction(entry, { cwd: p.dir });
    const ctx: Record<string, any> = { __hangar: { sql: "s", vector: "v" } };
    vm.runInNewContext(b.code, ctx, { filename: "bundle.js" });
    try {
      await ctx.__hangar_exports.default(null);
    } catch (e) {
      stack = (e as Error).stack!;
    }
    assert.ok(stack, "the guest threw");
  });
  after(() => p.close());

  test("maps a V8 stack (line and column) back to the TypeScript sources", () => {
    const mapped = mapStack(stack, b.map);
    assert.doesNotMatch(mapped, /bundle\.js/);
    const lines = mapped.split("\n");
    assert.equal(lines[0], "Error: boom: s");
    assert.match(lines[1]!, /^\s+at explode \(functions\/lib\/fail\.ts:4:9\)$/);
    // async functions are lowered to generators (bundle.ts), so V8 names the frame by its generator body
    assert.match(lines[2]!, /^\s+at (Object\.)?(handler|<anonymous>) \(functions\/failing\.ts:5:3\)$/);
  });

  test("maps QuickJS frames without a column to file:line", () => {
    const bundleLine = /bundle\.js:(\d+):\d+/.exec(stack)![1];
    const quick = `Error: boom: s\n    at explode (bundle.js:${bundleLine})\n    at <anonymous> (other.js:3)\n`;
    assert.equal(mapStack(quick, b.map), `Error: boom: s\n    at explode (functions/lib/fail.ts:4)\n    at <anonymous> (other.js:3)\n`);
  });

  test("honours the bundle filename, leaves unmapped and look-alike positions alone", () => {
    const bundleLine = /bundle\.js:(\d+):\d+/.exec(stack)![1];
    const s = `    at f (fn.v3.js:${bundleLine}:5)\n    at g (mybundle.js:${bundleLine}:5)\n    at h (fn.v3.js:99999:1)`;
    const mapped = mapStack(s, b.map, "fn.v3.js");
    assert.match(mapped, /^ {4}at f \(functions\/lib\/fail\.ts:\d+:\d+\)$/m);
    assert.match(mapped, /mybundle\.js:/);
    assert.match(mapped, /fn\.v3\.js:99999:1/);
  });

  test("a broken map returns the stack unchanged", () => {
    assert.equal(mapStack(stack, "{not json"), stack);
  });

  test("repeated calls hit the cache and stay cheap, also for an npm-sized map", async () => {
    const entry = await p.write("functions/big.ts", 'import { Hono } from "hono";\nexport default new Hono();\n');
    const big = await bundleFunction(entry, { cwd: p.dir });
    const frame = "Error: x\n    at f (bundle.js:40:5)\n    at g (bundle.js:300:10)";
    let t0 = performance.now();
    mapStack(frame, big.map);
    const first = performance.now() - t0;
    t0 = performance.now();
    for (let i = 0; i < 1000; i++) mapStack(frame, big.map);
    const cached = (performance.now() - t0) / 1000;
    console.log(`# mapStack: map of ${big.map.length} chars, first call ${first.toFixed(1)} ms, cached ${(cached * 1000).toFixed(1)} us`);
    assert.ok(cached < first, `cached ${cached} ms vs first ${first} ms`);
  });
});
