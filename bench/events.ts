// Table events: throughput and commit-to-handler latency, Hangar's event triggers vs graphile-worker.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startCollector, type Collector } from "./lib/collector.ts";
import { bundle, root, startHangar } from "./lib/hangar.ts";
import { scratchDir, TS_IMPORT } from "./lib/peers.ts";
import { cpuMs, start } from "./lib/procs.ts";
import { table, type Benchmark } from "./lib/report.ts";
import { fmt, fmtRatio, percentile, ratio, verdict } from "./lib/stats.ts";
import { sleep } from "./lib/time.ts";

const PACED = 200;
const PACE_MS = 20;
const BURST = Number(process.env.BENCH_EVENTS) || 2000;
/** Handlers at once on both sides: graphile-worker's concurrency, Hangar's HANGAR_EVENT_CONCURRENCY (its default). */
const CONCURRENCY = 16;

const CAPTURE_ROWS = 10_000;

interface CaptureCost {
  /** Microseconds per row of one CAPTURE_ROWS-row INSERT into the watched table and into an identical unwatched one. */
  insertUs: number;
  plainInsertUs: number;
}

/** A bulk INSERT of CAPTURE_ROWS rows, watched (bench_items, inserts) vs unwatched (same shape); the median of 3 each. */
async function captureCost(db: string, log: (m: string) => void): Promise<CaptureCost> {
  const c = new pg.Client({ connectionString: db });
  await c.connect();
  try {
    await c.query("create table bench_plain (like bench_items including all)");
    const time = async (sql: string) => {
      const t0 = performance.now();
      await c.query(sql);
      return ((performance.now() - t0) * 1000) / CAPTURE_ROWS;
    };
    const samples: Record<keyof CaptureCost, number[]> = { insertUs: [], plainInsertUs: [] };
    for (let i = 0; i < 3; i++) {
      for (const [t, key] of [["bench_items", "insertUs"], ["bench_plain", "plainInsertUs"]] as const) {
        samples[key].push(await time(`insert into ${t} (id, payload) select 1000000 * ${i + 1} + g, 'bulk' from generate_series(1, ${CAPTURE_ROWS}) g`));
      }
    }
    const out = { insertUs: percentile(samples.insertUs, 50), plainInsertUs: percentile(samples.plainInsertUs, 50) };
    log(`capture: ${CAPTURE_ROWS}-row insert ${fmt(out.insertUs)} us/row watched vs ${fmt(out.plainInsertUs)} unwatched`);
    return out;
  } finally {
    await c.end();
  }
}

interface EventResult {
  capture?: CaptureCost;
  /** CPU (user + system, all threads) the system's process spent per burst event; robust to a loaded machine. */
  cpuMsPerEvent: number | null;
  /** The same for the Postgres backends serving its database. */
  pgCpuMsPerEvent: number | null;
  p50: number;
  p99: number;
  delivered: number;
  eps: number;
  burstDelivered: number;
  drainS: number;
}

const TABLE = "create table bench_items (id bigserial primary key, payload text not null default 'x')";

/** CPU ms of every Postgres backend connected to `dbName` right now, by pid. */
function backendCpu(dbName: string): Map<number, number> {
  const out = new Map<number, number>();
  let pids: string[] = [];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const d of pids) {
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8");
      if (!cmd.startsWith("postgres: ") || !cmd.split(" ").includes(dbName)) continue;
      const ms = cpuMs(Number(d));
      if (ms !== null) out.set(Number(d), ms);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

interface Meter {
  pid: number;
  dbName: string;
}

/** Paced single-row commits (latency), then one commit of BURST rows (throughput). */
async function drive(db: string, collector: Collector, log: (m: string) => void, label: string, prefix: string, meter: Meter): Promise<EventResult> {
  const c = new pg.Client({ connectionString: db });
  await c.connect();
  try {
    const commits = new Map<string, number>();
    for (let i = 0; i < PACED; i++) {
      const { rows } = await c.query<{ id: string }>("insert into bench_items default values returning id");
      commits.set(prefix + rows[0].id, performance.now());
      await sleep(PACE_MS);
    }
    const ids = [...commits.keys()];
    const delivered = await collector.waitFor(ids, 30_000);
    const lat = ids.filter((id) => collector.arrivals.has(id)).map((id) => collector.arrivals.get(id)! - commits.get(id)!);
    log(`${label}: paced ${delivered}/${PACED} delivered, p50 ${fmt(percentile(lat, 50))} ms, p99 ${fmt(percentile(lat, 99))} ms`);

    const cpu0 = cpuMs(meter.pid);
    const pg0 = backendCpu(meter.dbName);
    const { rows } = await c.query<{ id: string }>(`insert into bench_items (payload) select 'burst' from generate_series(1, ${BURST}) returning id`);
    const t0 = performance.now();
    const burstIds = rows.map((r) => prefix + r.id);
    const burstDelivered = await collector.waitFor(burstIds, 120_000);
    const last = Math.max(...burstIds.filter((id) => collector.arrivals.has(id)).map((id) => collector.arrivals.get(id)!));
    const drainS = (last - t0) / 1000;
    const cpu1 = cpuMs(meter.pid);
    const cpuMsPerEvent = cpu0 !== null && cpu1 !== null && burstDelivered ? (cpu1 - cpu0) / burstDelivered : null;
    // Backends present at the end; the capture of the burst (in the bench's own session) is not counted.
    let pgMs = 0;
    for (const [pid, ms] of backendCpu(meter.dbName)) pgMs += ms - (pg0.get(pid) ?? 0);
    const pgCpuMsPerEvent = burstDelivered && pg0.size ? pgMs / burstDelivered : null;
    log(`${label}: burst ${burstDelivered}/${BURST} delivered in ${fmt(drainS)} s; CPU per event ${cpuMsPerEvent === null ? "n/a" : fmt(cpuMsPerEvent, 2)} ms (process), ${pgCpuMsPerEvent === null ? "n/a" : fmt(pgCpuMsPerEvent, 2)} ms (its Postgres backends)`);
    return { cpuMsPerEvent, pgCpuMsPerEvent, p50: percentile(lat, 50), p99: percentile(lat, 99), delivered, eps: burstDelivered / drainS, burstDelivered, drainS };
  } finally {
    await c.end();
  }
}

async function graphile(db: string, collector: Collector, log: (m: string) => void): Promise<EventResult> {
  const c = new pg.Client({ connectionString: db });
  await c.connect();
  await c.query(TABLE);
  const p = start("graphile-worker", process.execPath, [...TS_IMPORT, join(root, "bench/peers/graphile.ts")], {
    env: { ...process.env, DATABASE_URL: db, COLLECTOR: collector.url, CONCURRENCY: String(CONCURRENCY) },
    cwd: root,
  });
  try {
    const t0 = performance.now();
    while (!p.output().includes("ready")) {
      if (performance.now() - t0 > 30_000) throw new Error(`graphile-worker did not start:\n${p.output().slice(-2000)}`);
      await sleep(50);
    }
    await c.query(`create function bench_enqueue() returns trigger language plpgsql as $$
      begin perform graphile_worker.add_job('record', json_build_object('id', new.id)); return new; end $$`);
    await c.query("create trigger bench_items_job after insert on bench_items for each row execute function bench_enqueue()");
    await c.end();
    return await drive(db, collector, log, "graphile-worker", "g:", { pid: p.pid, dbName: new URL(db).pathname.slice(1) });
  } finally {
    await p.stop();
  }
}

async function hangar(db: string, collector: Collector, log: (m: string) => void): Promise<EventResult | string> {
  const c = new pg.Client({ connectionString: db });
  await c.connect();
  await c.query(TABLE);
  await c.end();
  const h = await startHangar({ databaseUrl: db, env: { HANGAR_FETCH_ALLOW_PRIVATE: "1", HANGAR_EVENT_CONCURRENCY: String(CONCURRENCY) } });
  try {
    const dir = scratchDir("events");
    writeFileSync(
      join(dir, "on-item.ts"),
      `export const config = { events: ["public.bench_items:insert"] };
export default {
  async event(event: { new: { id: string } }) {
    const res = await fetch("${collector.url}/hit?id=h:" + event.new.id);
    await res.arrayBuffer();
  },
};
`,
    );
    try {
      await h.deploy("on-item", await bundle(join(dir, "on-item.ts")));
    } catch (err) {
      return `deploying a function with config events ["public.bench_items:insert"] failed: ${(err as Error).message.split("\n")[0]}`;
    }
    // Probe: one insert must reach the handler.
    const probe = new pg.Client({ connectionString: db });
    await probe.connect();
    const { rows } = await probe.query<{ id: string }>("insert into bench_items (payload) values ('probe') returning id");
    await probe.end();
    if (!(await collector.waitFor(["h:" + rows[0].id], 8000))) {
      const check = new pg.Client({ connectionString: db });
      await check.connect();
      const stored = await check
        .query<{ n: number }>("select count(*)::int as n from hangar.events")
        .then(({ rows }) => rows[0].n)
        .catch(() => -1);
      await check.end();
      const why =
        stored === 0
          ? "no event was stored in hangar.events: deploying did not install the capture trigger on the table"
          : stored > 0
            ? `${stored} event(s) stored in hangar.events but none handled: \`hangar start\` does not dispatch them`
            : "hangar.events is not readable";
      return `the deploy succeeded, but an insert into public.bench_items did not reach the function's event handler within 8 s (${why})`;
    }
    const r = await drive(db, collector, log, "hangar", "h:", { pid: h.proc.pid, dbName: new URL(db).pathname.slice(1) });
    await h.stop();
    // The capture trigger stays installed with no instance running: time bulk writes with and without it.
    return { ...r, capture: await captureCost(db, log) };
  } finally {
    await h.stop();
  }
}

export const events: Benchmark = {
  name: "events",
  title: "table events: throughput and commit-to-handler latency vs graphile-worker",
  async run({ cluster, log }) {
    const load = loadavg()[0];
    const collector = await startCollector();
    try {
      const g = await graphile(await cluster.createDb("bench_events_gw"), collector, log);
      const hr = await hangar(await cluster.createDb("bench_events_hangar"), collector, log);
      const skip = typeof hr === "string" ? hr : null;
      const hv = typeof hr === "string" ? null : hr;
      if (skip) log(`Hangar side skipped: ${skip}`);
      const row = (label: string, r: EventResult | null) =>
        r
          ? [label, fmt(r.eps, 0), `${r.burstDelivered}/${BURST} in ${fmt(r.drainS, 2)} s`, cpuCell(r.cpuMsPerEvent), cpuCell(r.pgCpuMsPerEvent), fmt(r.p50), fmt(r.p99), `${r.delivered}/${PACED}`]
          : [label, "skipped", "", "", "", "", "", ""];
      const cpuCell = (v: number | null) => (v === null ? "n/a" : fmt(v, 2));
      const rows = [
        ["system", "events/s (burst drain)", "burst", "CPU ms/event (process)", "CPU ms/event (its Postgres backends)", "commit-to-handler p50 ms", "p99 ms", "paced delivered"],
        row(`Hangar (\`events: ["public.bench_items:insert"]\`, HANGAR_EVENT_CONCURRENCY ${CONCURRENCY})`, hv),
        row(`graphile-worker (trigger calls add_job, concurrency ${CONCURRENCY})`, g),
      ];
      const markdown = `${skip ? `**Hangar side skipped**: ${skip}\n\n` : ""}Latency: ${PACED} single-row autocommit inserts, one every ${PACE_MS} ms; latency is from the client seeing
the commit to the handler's report arriving at a collector in the bench process (same clock). Throughput: one
transaction inserts ${BURST} rows; events/s is ${BURST} over the time from its commit to the last report. CPU per
event is the user + system time (all threads, from /proc) the system's process and the Postgres backends of its
database spent during the burst, over the events delivered: on a loaded machine it compares better than rates do. Both
handlers report with one HTTP GET to the collector on 127.0.0.1 (Hangar's through the guest's \`fetch\`, with
\`HANGAR_FETCH_ALLOW_PRIVATE=1\` so it may reach loopback). Each system has its own database in the same cluster.
1-minute load average when this run started: ${load.toFixed(1)} on ${availableParallelism()} cores (other work on the machine
slows both systems; compare the ratios, and the CPU per event, rather than the rates).

${table(rows)}

| target | result |
|---|---|
| events throughput >= graphile-worker | ${hv ? verdict(ratio(hv.eps, g.eps), 1) : "not measured (skipped)"} |
| p50 commit-to-handler <= 10 ms | ${hv ? verdict(hv.p50, 10, true, " ms") : "not measured (skipped)"} |
${hv?.capture ? `| bulk capture: ${CAPTURE_ROWS}-row INSERT into the watched table, us/row (unwatched) | ${fmt(hv.capture.insertUs)} (${fmt(hv.capture.plainInsertUs)}), ${fmtRatio(hv.capture.insertUs / hv.capture.plainInsertUs)} |
` : ""}| CPU per event (process), Hangar / graphile-worker | ${hv && hv.cpuMsPerEvent !== null && g.cpuMsPerEvent ? fmtRatio(hv.cpuMsPerEvent / g.cpuMsPerEvent) : "not measured"} |
`;
      const summary = [
        hv
          ? `Hangar ${fmt(hv.eps, 0)} events/s p50 ${fmt(hv.p50)} ms p99 ${fmt(hv.p99)} ms; graphile-worker ${fmt(g.eps, 0)} events/s p50 ${fmt(g.p50)} ms; Hangar/graphile ${fmtRatio(ratio(hv.eps, g.eps))}; CPU ms/event ${hv.cpuMsPerEvent === null ? "n/a" : fmt(hv.cpuMsPerEvent, 2)} vs ${g.cpuMsPerEvent === null ? "n/a" : fmt(g.cpuMsPerEvent, 2)}`
          : `Hangar skipped (${skip}); graphile-worker ${fmt(g.eps, 0)} events/s, p50 ${fmt(g.p50)} ms, p99 ${fmt(g.p99)} ms`,
      ];
      return { markdown, summary };
    } finally {
      await collector.close();
    }
  },
};
