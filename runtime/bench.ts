// Runtime micro-benchmarks: node --import tsx runtime/bench.ts
import { createRuntime } from "./index.ts";
import type { InvocationInput, Limits } from "./types.ts";
import { preludeSource } from "./prelude.ts";

const limits: Limits = { cpuMs: 5000, wallMs: 30000, memoryMb: 128, subrequests: 50 };
const input: InvocationInput = { requestId: "bench", env: {}, auth: null, limits, host: {} };

/** An iife bundle of about `kb` KB: many small functions plus a fetch handler. */
function bundle(kb: number, tag: string): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < kb * 1024; i++) {
    const f = `function f${i}_${tag}(a, b) { const o = { k: a + ${i}, s: "v${i}" + b }; return o.k > b ? o.s.length : [a, b, ${i}].map((x) => x * 2).reduce((p, q) => p + q, 0); }\n`;
    parts.push(f);
    size += f.length;
  }
  return `(() => {\n${parts.join("")}\nglobalThis.__hangar_exports = { default: { fetch: async (r) => new Response("ok " + f0_${tag}(1, 2)) } };\n})();`;
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

preludeSource(); // bundle the guest prelude once, as a server does at startup
const rt = await createRuntime();
// first load compiles the WASM module and warms the spare pool
await (await rt.load("warmup", bundle(1, "w"), { limits })).fetch(new Request("http://x/"), input);
await new Promise((r) => setTimeout(r, 50));

for (const kb of [10, 500]) {
  const evals: number[] = [];
  const restores: number[] = [];
  for (let i = 0; i < 5; i++) {
    const src = bundle(kb, `k${kb}r${i}`);
    const id = `cold-${kb}-${i}`;
    for (const times of [evals, restores]) {
      const t0 = performance.now();
      const inst = await rt.load(id, src, { limits });
      const o = await inst.fetch(new Request("http://x/"), input);
      if (!o.ok) throw new Error(o.error.message);
      await o.value.text();
      times.push(performance.now() - t0);
      await rt.evict(id);
      await new Promise((r) => setTimeout(r, 20)); // let the spare refill, as between real deploys
    }
  }
  console.log(`cold start, ${kb} KB bundle (${(bundle(kb, "x").length / 1024).toFixed(0)} KB): first (evaluate + snapshot + first fetch) median ${median(evals).toFixed(1)} ms; from snapshot (restore + first fetch) median ${median(restores).toFixed(1)} ms over ${evals.length}`);
}
const snaps = (rt as { snapshots?: { size: number; bytes: number } }).snapshots;
if (snaps) console.log(`snapshots kept: ${snaps.size}, ${(snaps.bytes / snaps.size / 1024).toFixed(0)} KiB each on average`);

const inst = await rt.load("warm", bundle(10, "warm"), { limits });
const N = 5000;
for (let i = 0; i < 200; i++) await (await inst.fetch(new Request("http://x/"), input));
let t0 = performance.now();
for (let i = 0; i < N; i++) { const o = await inst.fetch(new Request("http://x/"), input); if (o.ok) await o.value.text(); }
console.log(`warm invocation (sequential, incl. Request/Response on both sides): ${((performance.now() - t0) / N * 1000).toFixed(0)} us`);
t0 = performance.now();
await Promise.all(Array.from({ length: N }, () => inst.fetch(new Request("http://x/"), input)));
console.log(`warm invocation (${N} concurrent): ${((performance.now() - t0) / N * 1000).toFixed(0)} us each`);
const d0 = await rt.load("d", `globalThis.__hangar_exports = { default: { scheduled: async () => 1 } };`, { limits });
t0 = performance.now();
for (let i = 0; i < N; i++) await d0.dispatch("scheduled", null, input);
console.log(`warm dispatch (scheduled, no Request): ${((performance.now() - t0) / N * 1000).toFixed(0)} us`);

await rt.close();
const rt2 = await createRuntime();
const K = 40;
await new Promise((r) => setTimeout(r, 200));
global.gc?.();
await new Promise((r) => setTimeout(r, 100));
global.gc?.();
const rss0 = process.memoryUsage().rss;
for (let i = 0; i < K; i++) await (await rt2.load(`idle-${i}`, bundle(10, `i${i}`), { limits })).fetch(new Request("http://x/"), input);
await new Promise((r) => setTimeout(r, 100));
global.gc?.();
const rss1 = process.memoryUsage().rss;
const s = rt2.stats();
console.log(`idle warm instance (10 KB bundle): RSS ${((rss1 - rss0) / K / 1048576).toFixed(1)} MiB each, WASM heap ${(s.heapBytes / s.instances / 1048576).toFixed(1)} MiB each (${K} instances)`);
await rt2.close();
