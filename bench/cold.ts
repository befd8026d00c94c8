// Cold start: deploy (or process start) to first response, 10 KB and ~500 KB bundles.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRuntime } from "../runtime/index.ts";
import { bundle, startHangar } from "./lib/hangar.ts";
import { hangarFunction, sizedHandler } from "./lib/gen.ts";
import { preludeCost } from "./lib/prelude-cost.ts";
import { denoScript, scratchDir, startDeno, startWorkerd, workerdModule } from "./lib/peers.ts";
import { table, type Benchmark } from "./lib/report.ts";
import { fmt, median, verdict } from "./lib/stats.ts";
import { sleep } from "./lib/time.ts";

const SIZES = [10, 500];
const REPS = 15;
/** Invocations a serving process has run before the second set of cold starts. */
const SERVING_WARMUP = 5000;

async function firstOk(url: string, timeoutMs = 30_000): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    const res = await fetch(url).catch(() => null);
    if (res) await res.arrayBuffer();
    if (res?.ok) return;
    if (performance.now() - t0 > timeoutMs) throw new Error(`${url}: no 2xx within ${timeoutMs} ms (last ${res?.status})`);
  }
}

export const cold: Benchmark = {
  name: "cold",
  title: "cold start, deploy or process start to first response",
  async run({ cluster, log }) {
    const dir = scratchDir("cold");
    type Row = { kb: number; bytes: number; evalMs: number; restoreMs: number; servingMs: number; snapshotKiB: number; deployMs: number; deployToFirstMs: number; workerdMs: number; denoMs: number };
    const rows: Row[] = [];

    // Hangar, in process: the sandbox's own cold start (new instance, evaluate bundle, first fetch).
    const rt = await createRuntime({});
    const limits = { cpuMs: 5000, wallMs: 30_000, memoryMb: 128, subrequests: 50 };
    const input = { requestId: "bench", env: {}, auth: null, limits, host: {} };
    const built = new Map<string, { code: string; map: string; hash: string; bytes: number }>();
    const build = async (kb: number, tag: string) => {
      const key = `${kb}:${tag}`;
      if (!built.has(key)) {
        const file = join(dir, `c${kb}-${tag}.ts`);
        writeFileSync(file, hangarFunction(sizedHandler(kb, tag)));
        built.set(key, await bundle(file));
      }
      return built.get(key)!;
    };
    const warm = await build(1, "warm");
    await (await rt.load("warm", warm.code, { limits })).fetch(new Request("http://x/"), input);
    const evalMs = new Map<number, number[]>();
    const restoreMs = new Map<number, number[]>();
    const snapshotKiB = new Map<number, number>();
    const snaps = (rt as { snapshots?: { size: number; bytes: number } }).snapshots;
    /** One invocation of `inst`, its body read; throws when it failed. */
    const fetchOnce = async (inst: Awaited<ReturnType<typeof rt.load>>) => {
      const o = await inst.fetch(new Request("http://x/"), input);
      if (!o.ok) throw new Error(o.error.message);
      await o.value.text();
    };
    /** ms of `runtime.load` + first fetch of version `id` (evaluated or restored, as the runtime finds it), then evicted. */
    const coldStart = async (id: string, code: string) => {
      await sleep(30); // let the spare engine pool refill, as between real deploys
      const t0 = performance.now();
      await fetchOnce(await rt.load(id, code, { limits }));
      const ms = performance.now() - t0;
      await rt.evict(id);
      return ms;
    };
    for (const kb of SIZES) {
      const before = snaps ? { size: snaps.size, bytes: snaps.bytes } : undefined;
      for (let i = 0; i < REPS; i++) {
        const b = await build(kb, `e${i}`);
        // first the version's evaluation (which snapshots it), then a cold start of it from the snapshot
        for (const times of [evalMs, restoreMs]) times.set(kb, [...(times.get(kb) ?? []), await coldStart(`cold-${kb}-${i}`, b.code)]);
      }
      if (snaps && before) snapshotKiB.set(kb, (snaps.bytes - before.bytes) / Math.max(1, snaps.size - before.size) / 1024);
      log(`hangar ${kb} KB: first load (eval) + first fetch ${fmt(median(evalMs.get(kb)!))} ms, cold start from snapshot + first fetch ${fmt(median(restoreMs.get(kb)!), 2)} ms, snapshot ${fmt(snapshotKiB.get(kb) ?? NaN)} KiB`);
    }
    // The same cold starts in a serving process: V8 optimises the host code over a process's first few thousand
    // invocations, which a server taking traffic has done long before a function's cold start. Two functions
    // take the warm-up invocations, so that both sandbox threads serve some.
    const serving = await Promise.all(["serving-a", "serving-b"].map((id) => rt.load(id, warm.code, { limits })));
    for (let n = 0; n < SERVING_WARMUP; n += 16) {
      await Promise.all(Array.from({ length: 16 }, (_, j) => fetchOnce(serving[j % 2])));
    }
    const servingMs = new Map<number, number[]>();
    for (const kb of SIZES) {
      for (let i = 0; i < REPS; i++) {
        const b = await build(kb, `e${i}`);
        servingMs.set(kb, [...(servingMs.get(kb) ?? []), await coldStart(`cold-${kb}-${i}`, b.code)]);
      }
      log(`hangar ${kb} KB in a serving process (${SERVING_WARMUP} invocations before): cold start from snapshot + first fetch ${fmt(median(servingMs.get(kb)!), 2)} ms`);
    }
    await rt.close();
    const prelude = await preludeCost();
    log(`prelude ${fmt(prelude.bytes / 1024, 1)} KiB: evaluated into a fresh engine ${fmt(prelude.evaluateMs, 1)} ms, a spare from its snapshot ${fmt(prelude.spareMs, 2)} ms`);

    // Hangar, end to end: POST the deploy (bundle built beforehand), then poll until the function answers.
    const db = await cluster.createDb("bench_cold");
    const h = await startHangar({ databaseUrl: db });
    const deployMs = new Map<number, number[]>();
    const firstMs = new Map<number, number[]>();
    try {
      await h.deploy("warmup", warm);
      await firstOk(`${h.url}/functions/v1/warmup`);
      for (const kb of SIZES) {
        for (let i = 0; i < REPS; i++) {
          const b = await build(kb, `d${i}`);
          const name = `cold-${kb}-${i}`;
          const t0 = performance.now();
          await h.deploy(name, b);
          const t1 = performance.now();
          await firstOk(`${h.url}/functions/v1/${name}`);
          const t2 = performance.now();
          deployMs.set(kb, [...(deployMs.get(kb) ?? []), t1 - t0]);
          firstMs.set(kb, [...(firstMs.get(kb) ?? []), t2 - t0]);
        }
        log(`hangar ${kb} KB: eval+first fetch ${fmt(median(evalMs.get(kb)!))} ms, deploy call ${fmt(median(deployMs.get(kb)!))} ms, deploy to first response ${fmt(median(firstMs.get(kb)!))} ms`);
      }
    } finally {
      await h.stop();
    }

    // Peers: process start to first response (they have no deploy into a running process).
    const peerMs = { workerd: new Map<number, number[]>(), deno: new Map<number, number[]>() };
    for (const kb of SIZES) {
      for (let i = 0; i < REPS; i++) {
        const body = sizedHandler(kb, `p${i}`);
        const w = await startWorkerd(workerdModule("", body), "/", `cold${kb}-${i}`);
        peerMs.workerd.set(kb, [...(peerMs.workerd.get(kb) ?? []), w.startMs]);
        await w.stop();
        const d = await startDeno(denoScript("", body), "/", `cold${kb}-${i}`);
        peerMs.deno.set(kb, [...(peerMs.deno.get(kb) ?? []), d.startMs]);
        await d.stop();
      }
      log(`workerd ${kb} KB: ${fmt(median(peerMs.workerd.get(kb)!))} ms; deno ${kb} KB: ${fmt(median(peerMs.deno.get(kb)!))} ms`);
    }

    for (const kb of SIZES) {
      rows.push({
        kb,
        bytes: (await build(kb, "d0")).bytes,
        evalMs: median(evalMs.get(kb)!),
        restoreMs: median(restoreMs.get(kb)!),
        servingMs: median(servingMs.get(kb)!),
        snapshotKiB: snapshotKiB.get(kb) ?? NaN,
        deployMs: median(deployMs.get(kb)!),
        deployToFirstMs: median(firstMs.get(kb)!),
        workerdMs: median(peerMs.workerd.get(kb)!),
        denoMs: median(peerMs.deno.get(kb)!),
      });
    }
    const t = table([
      ["bundle", "Hangar sandbox: first load, eval + first fetch (ms)", "Hangar sandbox: cold start from snapshot + first fetch (ms)", "the same in a serving process (ms)", "snapshot (KiB)", "Hangar: deploy call (ms)", "Hangar: deploy to first 200 (ms)", "workerd: process start to first 200 (ms)", "Deno: process start to first 200 (ms)", "Hangar deploy-to-200 / workerd", "Hangar deploy-to-200 / Deno"],
      ...rows.map((r) => [
        `${r.kb} KB (${(r.bytes / 1024).toFixed(0)} KiB bundled)`, fmt(r.evalMs), fmt(r.restoreMs, 2), fmt(r.servingMs, 2), fmt(r.snapshotKiB), fmt(r.deployMs), fmt(r.deployToFirstMs), fmt(r.workerdMs), fmt(r.denoMs),
        `${(r.deployToFirstMs / r.workerdMs).toFixed(2)}x`, `${(r.deployToFirstMs / r.denoMs).toFixed(2)}x`,
      ]),
    ]);
    const [small, large] = rows;
    const markdown = `Medians of ${REPS}. Sources are generated: many small functions, all reachable from the handler.
"Sandbox" is \`runtime.load\` + first \`fetch\` in process (the part a request would pay without pre-warm):
first for a version never loaded (its bundle is evaluated and its memory frozen: one copy; the snapshot is made
from that copy after the first request is answered, not counted), then, after the instance is evicted, a cold
start of the same version (restored from the snapshot, on whichever thread). Those run in a fresh process, before
V8 has optimised the host code (a process's first few thousand invocations cost 2-4x the later ones); "in a serving
process" is the same cold starts again after ${SERVING_WARMUP.toLocaleString("en-US")} invocations of two other functions, as in a server taking traffic.
"Deploy to first 200" is POST \`/_hangar/api/functions.deploy\` with a bundle built beforehand
(the CLI's esbuild step is not counted), then GET until the function answers: it includes the
deploy's validation eval (its instance is parked, its snapshot made later), the store, the NOTIFY, and the
pre-warm (which takes the parked instance when the env and memory class match, else restores the snapshot). workerd and Deno cannot deploy
into a running process, so theirs is process spawn to first 200 (binary start included).

${t}

| target | result |
|---|---|
| cold start <= 2 ms for 10 KB (restore + first fetch) | ${verdict(small.restoreMs, 2, true, " ms")} |
| the same in a serving process | ${verdict(small.servingMs, 2, true, " ms")} |
| cold start <= 10 ms for 500 KB (restore + first fetch) | ${verdict(large.restoreMs, 10, true, " ms")} |
| 500 KB deploy to first 200 below workerd's process start | ${verdict(large.deployToFirstMs / large.workerdMs, 1, true, "x")} |
| making a spare (prepared instance: context and prelude) <= 2 ms | ${verdict(prelude.spareMs, 2, true, " ms")} |

The prelude (the Web platform every function gets: streams, forms, WebCrypto, Intl, URLPattern...,
\`runtime/guest\`) is ${fmt(prelude.bytes / 1024, 1)} KiB minified. Evaluating it into a fresh engine takes
${fmt(prelude.evaluateMs, 1)} ms (median of 9, module made beforehand): every instance paid that before snapshots;
now a process pays it once, to take the prelude snapshot. A spare (a prepared instance) is made from that
snapshot in ${fmt(prelude.spareMs, 2)} ms, engine module included; that is the prelude's share of a cold start.
`;
    return {
      markdown,
      summary: [`prelude ${fmt(prelude.bytes / 1024, 1)} KiB: evaluated ${fmt(prelude.evaluateMs, 1)} ms, spare from snapshot ${fmt(prelude.spareMs, 2)} ms`, ...rows.map((r) => `${r.kb} KB: sandbox first load ${fmt(r.evalMs)} ms, from snapshot ${fmt(r.restoreMs, 2)} ms (${fmt(r.snapshotKiB)} KiB), deploy to 200 ${fmt(r.deployToFirstMs)} ms, workerd ${fmt(r.workerdMs)} ms, Deno ${fmt(r.denoMs)} ms`)],
    };
  },
};
