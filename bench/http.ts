// Hello-world JSON throughput and latency: Hangar vs raw Hono (ceiling), workerd, Deno.
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { root, startHangar } from "./lib/hangar.ts";
import { warmAndLoad, type LoadResult } from "./lib/load.ts";
import { denoScript, HELLO_HANDLER, startDeno, startNodeScript, startWorkerd, workerdModule, type Served } from "./lib/peers.ts";
import { waitForHttp } from "./lib/procs.ts";
import { table, type Benchmark } from "./lib/report.ts";
import { fmt, fmtRatio, ratio, verdict } from "./lib/stats.ts";
import { CONNECTIONS, SECONDS, WARM_SECONDS } from "./lib/time.ts";

const PATH = "/functions/v1/hello?name=bench";

async function measure(log: (m: string) => void, name: string, url: string): Promise<LoadResult & { sample: string }> {
  const res = await fetch(url);
  const sample = await res.text();
  log(`${name}: ${res.status} ${sample}; ${WARM_SECONDS} s warm-up, ${SECONDS} s at ${CONNECTIONS} connections`);
  const r = await warmAndLoad(url, { connections: CONNECTIONS, seconds: SECONDS, warmSeconds: WARM_SECONDS });
  log(`${name}: ${fmt(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, errors ${r.errors}, non-2xx ${r.non2xx}`);
  return { ...r, sample };
}

export const http: Benchmark = {
  name: "http",
  title: "hello-world JSON over HTTP",
  async run({ cluster, log }) {
    const results: [string, LoadResult & { sample: string }][] = [];

    const db = await cluster.createDb("bench_http");
    // all sandbox threads (the default: one per core), then one thread
    for (const [label, env] of [
      [`Hangar (\`hangar start\`, functions/hello.ts, ${availableParallelism()} sandbox threads)`, {}],
      ["Hangar, 1 sandbox thread (`HANGAR_SANDBOX_THREADS=1`)", { HANGAR_SANDBOX_THREADS: "1" }],
    ] as const) {
      const h = await startHangar({ databaseUrl: db, env });
      try {
        await h.cliDeploy(resolve(root, "functions"), ["hello"]);
        await waitForHttp(h.url + PATH, h.proc, 10_000);
        results.push([label, await measure(log, label.startsWith("Hangar (") ? "hangar" : "hangar-1", h.url + PATH)]);
      } finally {
        await h.stop();
      }
    }

    const peers: [string, () => Promise<Served>][] = [
      ["raw Hono on Node (`@hono/node-server`)", () => startNodeScript("hono-hello.ts")],
      ["workerd (module worker)", () => startWorkerd(workerdModule(HELLO_HANDLER))],
      ["Deno (`Deno.serve`)", () => startDeno(denoScript(HELLO_HANDLER))],
    ];
    for (const [label, startPeer] of peers) {
      const p = await startPeer();
      try {
        results.push([label, await measure(log, label.split(" ")[0], p.url + PATH)]);
      } finally {
        await p.stop();
      }
    }

    const get = (prefix: string) => results.find(([l]) => l.startsWith(prefix))?.[1];
    const hangar = get("Hangar (")!;
    const one = get("Hangar, 1")!;
    const rows: (string | number)[][] = [["system", "req/s", "p50 ms", "p99 ms", "errors + non-2xx", "Hangar / this (req/s)"]];
    for (const [label, r] of results) rows.push([label, fmt(r.rps, 0), r.p50, r.p99, r.errors + r.non2xx, fmtRatio(ratio(hangar.rps, r.rps))]);
    const vsWorkerd = ratio(hangar.rps, get("workerd")!.rps);
    const vsHono = ratio(hangar.rps, get("raw Hono")!.rps);
    const vsDeno = ratio(hangar.rps, get("Deno")!.rps);
    const oneVsWorkerd = ratio(one.rps, get("workerd")!.rps);
    const summary = [
      `Hangar ${fmt(hangar.rps, 0)} req/s (p50 ${hangar.p50} ms, p99 ${hangar.p99} ms); Hangar/workerd ${fmtRatio(vsWorkerd)}, Hangar/Hono ${fmtRatio(vsHono)}, Hangar/Deno ${fmtRatio(vsDeno)}`,
      `Hangar on 1 sandbox thread ${fmt(one.rps, 0)} req/s (p99 ${one.p99} ms); /workerd ${fmtRatio(oneVsWorkerd)}`,
    ];
    const markdown = `GET \`${PATH}\`, same JSON body from every system, ${CONNECTIONS} connections, ${WARM_SECONDS} s warm-up then ${SECONDS} s measured,
one system at a time; load from autocannon in its own process (latency resolution 1 ms). Hangar runs one
process (\`hangar start\`, default \`--workers 1\`) against its Postgres, with its default sandbox threads (one
per core) and again with one; workerd, Deno and Node are single-process too. Ratios come from this one run
on a shared machine: absolute figures move with its load.

${table(rows)}

| target | result |
|---|---|
| Hangar >= 1.0x workerd throughput (all threads) | ${verdict(vsWorkerd, 1.0)} |
| Hangar >= 1.0x workerd throughput (1 sandbox thread) | ${verdict(oneVsWorkerd, 1.0)} |
| Hangar p99 <= workerd p99 | ${hangar.p99 <= get("workerd")!.p99 ? "met" : "missed"} (${hangar.p99} ms vs ${get("workerd")!.p99} ms) |
| Hangar >= 1.5x workerd throughput (stretch) | ${verdict(vsWorkerd, 1.5)} |
| Hangar >= 0.8x raw Hono throughput | ${verdict(vsHono, 0.8)} |

Response bodies: Hangar \`${hangar.sample}\`; the peers run the same handler code.
`;
    return { markdown, summary };
  },
};
