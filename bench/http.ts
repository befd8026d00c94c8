// Hello-world JSON throughput and latency: Hangar vs raw Hono (ceiling), workerd, Deno.
import { availableParallelism } from "node:os";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { root, startHangar } from "./lib/hangar.ts";
import { load, type LoadResult } from "./lib/load.ts";
import { hangarFunction } from "./lib/gen.ts";
import { denoScript, HELLO_HANDLER, scratchDir, startDeno, startNodeScript, startWorkerd, workerdModule, type Served } from "./lib/peers.ts";
import { measureSse, SSE_HANDLER, SSE_SHAPE, type SseResult } from "./lib/sse.ts";
import { groupCpuMs, waitForHttp } from "./lib/procs.ts";
import { table, type Benchmark } from "./lib/report.ts";
import { fmt, fmtRatio, median, ratio, verdict } from "./lib/stats.ts";
import { CONNECTIONS, SECONDS, WARM_SECONDS } from "./lib/time.ts";

const PATH = "/functions/v1/hello?name=bench";
const SSE_PATH = "/functions/v1/sse";

/** Hello throughput is measured in this many rounds, the systems taking turns, so a drift of the machine's speed touches every system alike. */
const ROUNDS = 3;
const ROUND_SECONDS = Math.max(2, Math.round(SECONDS / ROUNDS));

interface System {
  label: string;
  short: string;
  url: string;
  /** Process group whose CPU is counted (the server and anything it spawned). */
  pgid: number;
  sample: string;
  rounds: (LoadResult & { cpuMs: number | null })[];
}

/** One round of load on `s`, with the CPU its process group spent meanwhile. */
async function round(log: (m: string) => void, s: System, n: number): Promise<void> {
  const c0 = groupCpuMs(s.pgid);
  const r = await load(s.url, { connections: CONNECTIONS, seconds: ROUND_SECONDS });
  const c1 = groupCpuMs(s.pgid);
  const cpu = c0 !== null && c1 !== null ? c1 - c0 : null;
  s.rounds.push({ ...r, cpuMs: cpu });
  log(`${s.short} round ${n}: ${fmt(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, errors ${r.errors}, non-2xx ${r.non2xx}${cpu === null ? "" : `, CPU ${fmt((cpu * 1000) / r.total, 0)} us/request`}`);
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
    const db = await cluster.createDb("bench_http");
    const db1 = await cluster.createDb("bench_http_1");
    const sse: [string, SseResult][] = [];
    const sseDir = scratchDir("sse");
    writeFileSync(join(sseDir, "sse.ts"), hangarFunction(SSE_HANDLER));
    // every system runs from the start: the hello rounds alternate between them
    const systems: System[] = [];
    const stops: (() => Promise<void>)[] = [];
    try {
      const add = async (label: string, short: string, url: string, pgid: number) => {
        const res = await fetch(url);
        const sample = await res.text();
        log(`${short}: ${res.status} ${sample}; ${WARM_SECONDS} s warm-up`);
        await load(url, { connections: CONNECTIONS, seconds: WARM_SECONDS });
        systems.push({ label, short, url, pgid, sample, rounds: [] });
      };
      // all sandbox threads (the default: one per core), then one thread
      for (const [label, short, database, env] of [
        [`Hangar (\`hangar start\`, functions/hello.ts, ${availableParallelism()} sandbox threads)`, "hangar", db, {}],
        ["Hangar, 1 sandbox thread (`HANGAR_SANDBOX_THREADS=1`)", "hangar-1", db1, { HANGAR_SANDBOX_THREADS: "1" }],
      ] as const) {
        const h = await startHangar({ databaseUrl: database, env });
        stops.push(() => h.stop());
        await h.cliDeploy(resolve(root, "functions"), ["hello"]);
        await waitForHttp(h.url + PATH, h.proc, 10_000);
        if (short === "hangar") {
          await h.cliDeploy(sseDir, ["sse"]);
          await waitForHttp(`${h.url}${SSE_PATH}?n=1`, h.proc, 10_000);
          sse.push(["Hangar", await measureSseLogged(log, "hangar", h.url + SSE_PATH)]);
        }
        await add(label, short, h.url + PATH, h.proc.pid);
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
        stops.push(() => p.stop());
        await add(label, label.split(" ")[0], p.url + PATH, p.proc.pid);
      }
      log(`${ROUNDS} rounds of ${ROUND_SECONDS} s per system at ${CONNECTIONS} connections, the systems taking turns`);
      for (let n = 1; n <= ROUNDS; n++) {
        // each round starts one system further on, so none is always first after the same neighbour
        for (let i = 0; i < systems.length; i++) await round(log, systems[(i + n - 1) % systems.length], n);
      }
    } finally {
      for (const stop of stops.reverse()) await stop();
    }

    const results = systems.map((s): [string, LoadResult & { sample: string; cpuUsPerRequest: number | null; perRound: number[] }] => {
      const total = s.rounds.reduce((a, r) => a + r.total, 0);
      const cpu = s.rounds.every((r) => r.cpuMs !== null) ? s.rounds.reduce((a, r) => a + r.cpuMs!, 0) : null;
      return [s.label, {
        rps: s.rounds.reduce((a, r) => a + r.rps, 0) / s.rounds.length,
        p50: median(s.rounds.map((r) => r.p50)),
        p99: median(s.rounds.map((r) => r.p99)),
        total,
        errors: s.rounds.reduce((a, r) => a + r.errors, 0),
        non2xx: s.rounds.reduce((a, r) => a + r.non2xx, 0),
        sample: s.sample,
        cpuUsPerRequest: cpu === null || !total ? null : (cpu * 1000) / total,
        perRound: s.rounds.map((r) => r.rps),
      }];
    });
    const get = (prefix: string) => results.find(([l]) => l.startsWith(prefix))?.[1];
    const hangar = get("Hangar (")!;
    const one = get("Hangar, 1")!;
    // a ratio is the median of the rounds' ratios (each from two loads a few seconds apart)
    const vs = (a: typeof hangar, b: typeof hangar) => median(a.perRound.map((x, i) => ratio(x, b.perRound[i])));
    const rows: (string | number)[][] = [["system", "req/s (mean of rounds)", "req/s by round", "p50 ms", "p99 ms", "errors + non-2xx", "CPU us / request", "Hangar / this (req/s, median of rounds)"]];
    for (const [label, r] of results) {
      rows.push([label, fmt(r.rps, 0), r.perRound.map((x) => fmt(x, 0)).join(" / "), r.p50, r.p99, r.errors + r.non2xx,
        r.cpuUsPerRequest === null ? "n/a" : fmt(r.cpuUsPerRequest, 0), fmtRatio(vs(hangar, r))]);
    }
    const vsWorkerd = vs(hangar, get("workerd")!);
    const vsHono = vs(hangar, get("raw Hono")!);
    const vsDeno = vs(hangar, get("Deno")!);
    const oneVsWorkerd = vs(one, get("workerd")!);
    const cpuVsWorkerd = ratio(hangar.cpuUsPerRequest ?? NaN, get("workerd")!.cpuUsPerRequest ?? NaN);
    const summary = [
      `Hangar ${fmt(hangar.rps, 0)} req/s (p50 ${hangar.p50} ms, p99 ${hangar.p99} ms); Hangar/workerd ${fmtRatio(vsWorkerd)}, Hangar/Hono ${fmtRatio(vsHono)}, Hangar/Deno ${fmtRatio(vsDeno)}`,
      `Hangar on 1 sandbox thread ${fmt(one.rps, 0)} req/s (p99 ${one.p99} ms); /workerd ${fmtRatio(oneVsWorkerd)}`,
      `CPU per request: Hangar ${fmt(hangar.cpuUsPerRequest ?? NaN, 0)} us, workerd ${fmt(get("workerd")!.cpuUsPerRequest ?? NaN, 0)} us (${fmtRatio(cpuVsWorkerd)})`,
    ];
    const hangarSse = sse.find(([l]) => l === "Hangar")![1];
    const sseRows: (string | number)[][] = [["system", "time to first byte, p50 / p90 ms", "events/s, one stream", `events/s, ${SSE_SHAPE.concurrent} streams at once`, "Hangar / this (one stream)", `Hangar / this (${SSE_SHAPE.concurrent} streams)`]];
    for (const [label, r] of sse) {
      sseRows.push([label, `${fmt(r.ttfbP50, 2)} / ${fmt(r.ttfbP90, 2)}`, fmt(r.eventsPerSecond, 0), fmt(r.concurrentEventsPerSecond, 0),
        fmtRatio(ratio(hangarSse.eventsPerSecond, r.eventsPerSecond)), fmtRatio(ratio(hangarSse.concurrentEventsPerSecond, r.concurrentEventsPerSecond))]);
    }
    summary.push(`SSE: Hangar first byte ${fmt(hangarSse.ttfbP50, 2)} ms, ${fmt(hangarSse.eventsPerSecond, 0)} events/s; ${sse.filter(([l]) => l !== "Hangar").map(([l, r]) => `${l} ${fmt(r.ttfbP50, 2)} ms, ${fmt(r.eventsPerSecond, 0)} events/s`).join("; ")}`);
    const markdown = `GET \`${PATH}\`, same JSON body from every system, ${CONNECTIONS} connections. Every system is started
first and warmed (${WARM_SECONDS} s); then ${ROUNDS} rounds of ${ROUND_SECONDS} s each, the systems taking turns (one at a time, each
round starting one system further on), so that a change in the shared machine's speed during the run falls
on all of them. req/s is the mean of a system's rounds; a ratio is the median of the per-round ratios; p50 and
p99 are medians of the rounds' (autocannon in its own process, 1 ms resolution). CPU per request is the user +
system time of the server's process group (from /proc) over the requests it answered: on a loaded machine it
moves less than rates do. Hangar runs one process (\`hangar start\`, default \`--workers 1\`) against its Postgres,
with its default sandbox threads (one per core) and again with one; workerd, Deno and Node are single-process too.

${table(rows)}

| target | result |
|---|---|
| Hangar >= 1.0x workerd throughput (all threads) | ${verdict(vsWorkerd, 1.0)} |
| Hangar >= 1.0x workerd throughput (1 sandbox thread) | ${verdict(oneVsWorkerd, 1.0)} |
| Hangar p99 <= workerd p99 | ${hangar.p99 <= get("workerd")!.p99 ? "met" : "missed"} (${hangar.p99} ms vs ${get("workerd")!.p99} ms) |
| Hangar >= 1.5x workerd throughput (stretch) | ${verdict(vsWorkerd, 1.5)} |
| Hangar >= 0.8x raw Hono throughput | ${verdict(vsHono, 0.8)} |
| CPU per request, Hangar / workerd | ${fmtRatio(cpuVsWorkerd)} |

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
