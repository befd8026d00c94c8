// Load check for the invocation log writer (not a test):
//   DATABASE_URL=postgres://... node --import tsx host/logs/load.ts [--rate 5000] [--seconds 30]
// Pushes `rate` records per second into one writer for `seconds`, then prints
// written/dropped and the p50/p99/max time of record() calls.
import { parseArgs } from "node:util";
import { migrate } from "../db/index.ts";
import { PostgresDb } from "../db/postgres.ts";
import { uuid7 } from "../invoke/uuid7.ts";
import { rotateLogs } from "./partitions.ts";
import type { InvocationRecord } from "./types.ts";
import { createLogWriter } from "./writer.ts";

const { values } = parseArgs({ options: { rate: { type: "string", default: "5000" }, seconds: { type: "string", default: "30" } } });
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const url = process.env.DATABASE_URL;
if (!url) {
  console.error("set DATABASE_URL to a Postgres database (it gets the hangar schema)");
  process.exit(2);
}

const db = new PostgresDb({ url, applicationName: "hangar:logs-load" });
await migrate(db);
await rotateLogs(db, { retentionDays: 7 });
const nodeId = `load-${Date.now().toString(36)}`;
const writer = createLogWriter({ db, nodeId });

const sample = (i: number): InvocationRecord => {
  const now = new Date();
  return {
    id: uuid7(now.getTime()),
    requestId: `${nodeId}-${i}`,
    functionName: `fn-${i % 20}`,
    versionId: String(1 + (i % 20)),
    trigger: (["http", "event", "cron", "notify"] as const)[i % 4],
    status: i % 50 === 0 ? "GUEST_THREW" : "ok",
    httpStatus: i % 50 === 0 ? 500 : 200,
    startedAt: now,
    durationMs: 3.2,
    cpuMs: 1.1,
    memoryBytes: 2_097_152,
    responseBytes: i % 4 === 0 ? 58 : null,
    streamed: false,
    error: i % 50 === 0 ? { message: "boom", stack: "Error: boom\n    at handler (functions/fn/index.ts:12:11)" } : null,
    nodeId,
    logs: [
      { level: "log", message: `handling request ${i}`, time: now },
      { level: "info", message: JSON.stringify({ user: i % 1000, path: "/api/items", ok: true }), time: now },
    ],
  };
};

const total = rate * seconds;
const times = new Float64Array(total);
const tickMs = 10;
const perTick = Math.round((rate * tickMs) / 1000);
let sent = 0;
const started = performance.now();
await new Promise<void>((resolve) => {
  const tick = () => {
    // Catch up to the schedule: timers drift, the rate must not.
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + perTick);
    while (sent < due) {
      const rec = sample(sent);
      const t0 = performance.now();
      writer.record(rec);
      times[sent++] = performance.now() - t0;
    }
    if (sent >= total) resolve();
    else setTimeout(tick, tickMs);
  };
  tick();
});
const pushSeconds = (performance.now() - started) / 1000;
const beforeClose = writer.stats();
await writer.close({ timeoutMs: 30_000 });
const s = writer.stats();
const { rows: [{ n }] } = await db.query<{ n: string }>("select count(*) as n from hangar.invocations where node_id = $1", [nodeId]);
await db.close();

const sorted = Array.from(times).sort((a, b) => a - b);
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 1000;
console.log(JSON.stringify({
  rate, seconds, pushed: sent, pushSeconds: +pushSeconds.toFixed(2),
  written: s.written, dropped: s.dropped, rowsInDb: Number(n), bufferedAtEnd: beforeClose.buffered,
  recordUs: { p50: +pct(50).toFixed(2), p99: +pct(99).toFixed(2), max: +(sorted[sorted.length - 1] * 1000).toFixed(1) },
}, null, 2));
