// Hello-world JSON throughput and latency: Hangar vs raw Hono (ceiling), workerd, Deno.
import { availableParallelism } from "node:os";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { root, startHangar } from "./lib/hangar.ts";
import { warmAndLoad, type LoadResult } from "./lib/load.ts";
import { hangarFunction } from "./lib/gen.ts";
import { denoScript, HELLO_HANDLER, scratchDir, startDeno, startNodeScript, startWorkerd, workerdModule, type Served } from "./lib/peers.ts";
import { measureSse, SSE_HANDLER, SSE_SHAPE, type SseResult } from "./lib/sse.ts";
import { waitForHttp } from "./lib/procs.ts";
import { table, type Benchmark } from "./lib/report.ts";
import { fmt, fmtRatio, ratio, verdict } from "./lib/stats.ts";
import { CONNECTIONS, SECONDS, WARM_SECONDS } from "./lib/time.ts";

const PATH = "/functions/v1/hello?name=bench";
const SSE_PATH = "/functions/v1/sse";

async function measure(log: (m: string) => void, name: string, url: string): Promise<LoadResult & { sample: string }> {
  const res = await fetch(url);
  const sample = await res.text();
  log(`${name}: ${res.status} ${sample}; ${WARM_SECONDS} s warm-up, ${SECONDS} s at ${CONNECTIONS} connections`);
  const r = await warmAndLoad(url, { connections: CONNECTIONS, seconds: SECONDS, warmSeconds: WARM_SECONDS });
  log(`${name}: ${fmt(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, errors ${r.errors}, non-2xx ${r.non2xx}`);
  return { ...r, sample };
}

async function measureSseLogged(log: (m: string) => void, name: string, url: string): Promise<SseResult> {
  const r = await measureSse(url);
  log(`${name} SSE: first byte p50 ${fmt(r.ttfbP50, 2)} ms (p90 ${fmt(r.ttfbP90, 2)}), ${fmt(r.eventsPerSecond, 0)} events/s one stream, ${fmt(r.concurrentEventsPerSecond, 0)} events/s ${SSE_SHAPE.concurrent} streams`);
  return r;
}

export const http: Benchmark = {
  name: "http",
  title: "hello-world JSON over HTTP",
  async run({ cluster, log }) {
    const results: [string, LoadResult & { sample: string }][] = [];

    const db = await cluster.createDb("bench_http");
    const sse: [string, SseResult][] = [];
    const sseDir = scratchDir("sse");
    writeFileSync(join(sseDir, "sse.ts"), hangarFunction(SSE_HANDLER));
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
        if (label.startsWith("Hangar (")) {
          await h.cliDeploy(sseDir, ["sse"]);
          await waitForHttp(`${h.url}${SSE_PATH}?n=1`, h.proc, 10_000);
          sse.push(["Hangar", await measureSseLogged(log, "hangar", h.url + SSE_PATH)]);
        }
      } finally {
        await h.stop();
      }
    }

    for (const [label, start] of [
      ["workerd", () => startWorkerd(workerdModule(SSE_HANDLER), "/", "sse")],
      ["Deno", () => startDeno(denoScript(SSE_HANDLER), "/", "sse")],
    ] as const) {
      const p = await start();
      try {
        sse.push([label, await measureSseLogged(log, label, p.url + SSE_PATH)]);
      } finally {
        await p.stop();
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
    const hangarSse = sse.find(([l]) => l === "Hangar")![1];
    const sseRows: (string | number)[][] = [["system", "time to first byte, p50 / p90 ms", "events/s, one stream", `events/s, ${SSE_SHAPE.concurrent} streams at once`, "Hangar / this (one stream)", `Hangar / this (${SSE_SHAPE.concurrent} streams)`]];
    for (const [label, r] of sse) {
      sseRows.push([label, `${fmt(r.ttfbP50, 2)} / ${fmt(r.ttfbP90, 2)}`, fmt(r.eventsPerSecond, 0), fmt(r.concurrentEventsPerSecond, 0),
        fmtRatio(ratio(hangarSse.eventsPerSecond, r.eventsPerSecond)), fmtRatio(ratio(hangarSse.concurrentEventsPerSecond, r.concurrentEventsPerSecond))]);
    }
    summary.push(`SSE: Hangar first byte ${fmt(hangarSse.ttfbP50, 2)} ms, ${fmt(hangarSse.eventsPerSecond, 0)} events/s; ${sse.filter(([l]) => l !== "Hangar").map(([l, r]) => `${l} ${fmt(r.ttfbP50, 2)} ms, ${fmt(r.eventsPerSecond, 0)} events/s`).join("; ")}`);
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

A streamed SSE response (\`GET ${SSE_PATH}?n=N\`, the same handler on every system: a \`ReadableStream\` whose
\`pull\` enqueues one \`data: {"i":…,"token":"hello"}\` event, so the pace is the server's). Time to first byte:
${SSE_SHAPE.ttfbRequests} sequential one-event streams, from the request to the first bytes of the body (Node's fetch on the same
machine). Events per second: one stream of ${SSE_SHAPE.long.toLocaleString("en-US")} events from its first byte to its end, then
${SSE_SHAPE.concurrent} streams of ${SSE_SHAPE.each.toLocaleString("en-US")} read at once. Hangar: the default sandbox threads; every event counted.

${table(sseRows)}
`;
    return { markdown, summary };
  },
};
