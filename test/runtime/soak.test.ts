import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createRuntime } from "../../runtime/index.ts";
import { Instance } from "../../runtime/instance.ts";
import { ROOMY, input, moduleBundle } from "./helpers.ts";

const rt = await createRuntime({ threads: 0 }); // inspects the instance itself (debugCounts)
after(() => rt.close());

test("40,000 invocations: no leaked objects, heap stops growing, close disposes cleanly", { timeout: 600_000 }, async () => {
  const src = moduleBundle(`let count = 0; const handler = { async scheduled(p, env, ctx) { count++; const r = await globalThis.__hangar.sql.query("select 1", [p.i]); return { count, n: r[0].n, id: ctx.requestId }; } };`);
  const inst = (await rt.load("soak", src, { limits: ROOMY })) as Instance;
  const host = { "sql.query": async (args: unknown[]) => [{ n: (args[1] as number[])[0] }] };
  const inp = input({ host, limits: ROOMY });
  const N = 40_000;
  const BATCH = 100;
  let baseline: { objects: number } | undefined;
  let heapAt10k = 0;
  for (let i = 0; i < N; i += BATCH) {
    const outs = await Promise.all(Array.from({ length: BATCH }, (_, j) => inst.dispatch("scheduled", { i: i + j }, inp)));
    for (const o of outs) assert.ok(o.ok, !o.ok ? o.error.message : "");
    if (i + BATCH === 1000) baseline = inst.debugCounts();
    if (i + BATCH === 10_000) heapAt10k = inst.memoryBytes();
  }
  const last = await inst.dispatch("scheduled", { i: 7 }, inp);
  assert.ok(last.ok);
  assert.deepEqual(last.value, { count: N + 1, n: 7, id: "req-1" });
  const end = inst.debugCounts();
  assert.ok(end.objects <= baseline!.objects + 50, `QuickJS objects: ${baseline!.objects} after 1k, ${end.objects} after ${N}`);
  assert.equal(inst.memoryBytes(), heapAt10k, "WASM heap stopped growing after 10k invocations");
  await rt.evict("soak"); // disposes every handle; QuickJS would fail on leaked objects
});
