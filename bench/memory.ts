// Resident memory of `hangar start` with 1, 100 and 1,000 deployed functions, each invoked once (warm).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { bundle, startHangar, type Hangar } from "./lib/hangar.ts";
import { scratchDir } from "./lib/peers.ts";
import { rssBytes } from "./lib/procs.ts";
import { table, type Benchmark } from "./lib/report.ts";
import { fmt, mb, median, verdict } from "./lib/stats.ts";
import { sleep } from "./lib/time.ts";

const STEPS = [1, 100, 1000];

/** Run `fn` over `items` with at most `n` at once. */
async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

async function invoke(h: Hangar, name: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${h.url}/functions/v1/${name}`);
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${name} answered ${res.status}`);
  return performance.now() - t0;
}

export const memory: Benchmark = {
  name: "memory",
  title: "resident memory of `hangar start` with 1, 100 and 1,000 warm functions",
  async run({ cluster, log }) {
    const dir = scratchDir("memory");
    const names = Array.from({ length: STEPS[STEPS.length - 1] }, (_, i) => `mem-${String(i).padStart(4, "0")}`);
    const t0 = performance.now();
    const bundles = new Map<string, Awaited<ReturnType<typeof bundle>>>();
    await pool(names, 8, async (name) => {
      const file = join(dir, `${name}.ts`);
      writeFileSync(file, `export default { fetch: (request: Request) => Response.json({ fn: "${name}", path: new URL(request.url).pathname }) };\n`);
      bundles.set(name, await bundle(file));
    });
    log(`bundled ${names.length} functions in ${fmt((performance.now() - t0) / 1000)} s`);

    const db = await cluster.createDb("bench_memory");
    const h = await startHangar({ databaseUrl: db });
    type Row = { n: number; rss: number; deployS: number; firstMs: number; secondMs: number };
    const rows: Row[] = [];
    let baseline = 0;
    let warmMs = 0;
    try {
      await sleep(1000);
      baseline = rssBytes(h.proc.pid);
      log(`idle, no functions: RSS ${fmt(mb(baseline))} MiB`);
      let deployed = 0;
      for (const n of STEPS) {
        const td = performance.now();
        await pool(names.slice(deployed, n), 4, async (name) => {
          await h.deploy(name, bundles.get(name)!);
        });
        deployed = n;
        const deployS = (performance.now() - td) / 1000;
        // Deploys switch the registry asynchronously: wait until the last one answers.
        for (let t = performance.now(); ; ) {
          const res = await fetch(`${h.url}/functions/v1/${names[n - 1]}`);
          await res.arrayBuffer();
          if (res.ok) break;
          if (performance.now() - t > 15_000) throw new Error(`${names[n - 1]} not active after 15 s (${res.status})`);
          await sleep(20);
        }
        const first: number[] = [];
        await pool(names.slice(0, n), 4, async (name) => void first.push(await invoke(h, name)));
        if (n === 1) {
          // the reference: one warm function invoked the way the second pass invokes, one request at a time
          const warm: number[] = [];
          for (let i = 0; i < 100; i++) warm.push(await invoke(h, names[0]));
          warmMs = median(warm);
          log(`single warm function: invoke median ${fmt(warmMs, 2)} ms`);
        }
        // Second pass over at most 100 of them, evenly spaced, one at a time.
        const second: number[] = [];
        const step = Math.max(1, Math.floor(n / 100));
        for (let i = 0; i < n; i += step) second.push(await invoke(h, names[i]));
        await sleep(1500);
        const rss = rssBytes(h.proc.pid);
        rows.push({ n, rss, deployS, firstMs: median(first), secondMs: median(second) });
        log(`${n} functions: RSS ${fmt(mb(rss))} MiB (deploys took ${fmt(deployS)} s; invoke median ${fmt(median(first), 2)} ms, second pass ${fmt(median(second), 2)} ms)`);
      }
    } finally {
      await h.stop();
    }

    const per = (a: Row, b: Row) => mb(b.rss - a.rss) / (b.n - a.n);
    const last = rows[rows.length - 1];
    const perFn = per(rows[0], rows[1]);
    const perFnLarge = per(rows[1], rows[2]);
    // A warm instance answers a sequential request in a few ms; a re-created one pays a cold start.
    // So does RSS that stops growing while functions are added: instances were dropped (LRU under the runtime's budget).
    const evicted = rows.filter((r, i) => r.secondMs > 2 * warmMs || (i > 0 && r.rss < rows[i - 1].rss) || (i > 1 && per(rows[i - 1], r) < 0.25 * per(rows[i - 2], rows[i - 1]))).map((r) => r.n);
    const t = table([
      ["deployed, each invoked", "RSS (MiB)", "RSS over idle (MiB)", "MiB per added function", "deploy time for the step (s)", "invoke median, first / second pass (ms)"],
      ["0 (idle after start)", fmt(mb(baseline)), "0", "", "", ""],
      ...rows.map((r, i) => [
        String(r.n), fmt(mb(r.rss)), fmt(mb(r.rss - baseline)), i === 0 ? fmt(mb(r.rss - baseline), 2) : fmt(per(rows[i - 1], r), 2),
        fmt(r.deployS, 1), `${fmt(r.firstMs, 2)} / ${fmt(r.secondMs, 2)}`,
      ]),
    ]);
    const markdown = `One \`hangar start\` process (RSS from /proc/<pid>/status, VmRSS, 1.5 s after the last request).
Functions are tiny distinct bundles, deployed through the admin API (4 at a time), then each is invoked
once (4 at a time) and then up to 100 of them, evenly spaced, once more one at a time: a second-pass median close to the first means the instances
stayed warm; a much larger one means they were evicted and re-created (the runtime keeps warm instances
under a memory budget, 1 GiB by default, LRU, counting what each instance holds: its heap's high-water
mark, not the memory it may grow to). A re-created instance is restored from its version's snapshot
(see \`runtime/snapshot\`), not evaluated again. The reference for the second pass is one warm function
invoked 100 times the same way (one request at a time).

${t}

| target | result |
|---|---|
| memory per idle warm function <= 3 MB (RSS slope from 1 to 100 functions) | ${verdict(perFn, 3, true, " MiB")}${evicted.includes(rows[1].n) ? "; a lower bound, since not all 100 stayed warm" : ""} |
| 1,000 functions: second-pass median within 2x of a single warm function's (${fmt(warmMs, 2)} ms) | ${verdict(last.secondMs / warmMs, 2, true, "x")} |
| 1,000 functions: RSS <= 1.5 GiB | ${verdict(mb(last.rss), 1536, true, " MiB")} |

RSS slope from 100 to 1,000 functions: ${fmt(perFnLarge, 2)} MiB per function.${evicted.length ? ` With ${evicted.join(" and ")} functions the
second-pass median is well above the single-function one, or RSS grew by less than a quarter per function of the step before (or fell): not every instance stayed warm (evicted under the
runtime's budget and re-created on request), so the RSS at that step understates what that many warm functions
would take, and the slope there is not a per-warm-function cost.` : ""}
`;
    return {
      markdown,
      summary: [`RSS idle ${fmt(mb(baseline))} MiB; ${rows.map((r) => `${r.n} fns ${fmt(mb(r.rss))} MiB`).join(", ")}; ${fmt(perFn, 2)} MiB per function (1 to 100), ${fmt(perFnLarge, 2)} (100 to 1,000); second pass at ${last.n} ${fmt(last.secondMs / warmMs, 2)}x a single warm function${evicted.length ? `; not all warm at ${evicted.join(" and ")}` : ""}`],
    };
  },
};
