// The `sql` binding alone, in this process: sql.query through createSqlBindings
// on the guest pool (bindings made per call, as per invocation) vs pool.query,
// same statements, same concurrency, rounds alternated. No HTTP, no sandbox:
// what the binding itself costs. CPU per statement is this process's and, when
// the cluster is local, the server backends' (from /proc, by application name).
import pg from "pg";
import { createSqlBindings } from "../../host/bindings/sql/index.ts";
import { PostgresDb } from "../../host/db/postgres.ts";
import type { HostCallInfo } from "../../runtime/types.ts";
import { cpuMs } from "./procs.ts";

export interface InProcessRow {
  label: string;
  direct: { rate: number; nodeUs: number; serverUs: number };
  binding: { rate: number; nodeUs: number; serverUs: number };
}

const CONCURRENCY = 16;
const ROUND_MS = 2_000;

/** Summed CPU microseconds of the server backends with this application name (NaN when /proc is not theirs). */
async function serverCpu(admin: pg.Client, app: string): Promise<number> {
  const { rows } = await admin.query<{ pid: number }>("select pid from pg_catalog.pg_stat_activity where application_name = $1", [app]);
  let us = 0;
  for (const { pid } of rows) {
    const ms = cpuMs(pid);
    if (ms === null) return NaN;
    us += ms * 1000;
  }
  return us;
}

async function load(fn: () => Promise<unknown>, admin: pg.Client, app: string) {
  let count = 0;
  const s0 = await serverCpu(admin, app);
  const c0 = process.cpuUsage();
  const end = performance.now() + ROUND_MS;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < end) {
      await fn();
      count++;
    }
  }));
  const cu = process.cpuUsage(c0);
  const s1 = await serverCpu(admin, app);
  return { count, nodeUs: cu.user + cu.system, serverUs: s1 - s0 };
}

export async function sqlInProcess(url: string, cases: [string, string, unknown[]][], rounds = 3): Promise<InProcessRow[]> {
  const db = new PostgresDb({ url, applicationName: "bench-binding", settings: { guestSessionsPerFunction: CONCURRENCY } });
  const pool = new pg.Pool({ connectionString: url, max: 10, application_name: "bench-direct" });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const info: HostCallInfo = { requestId: "bench", signal: new AbortController().signal };
  let n = 0;
  const viaBinding = async (text: string, params: unknown[]) => {
    const g = db.guest({ functionName: "bench", invocationId: String(n++) });
    const b = createSqlBindings({ db: g });
    try {
      return await b.functions["sql.query"]([text, params, null], info);
    } finally {
      await b.close();
      await g.close();
    }
  };
  const out: InProcessRow[] = [];
  try {
    for (const [label, text, params] of cases) {
      const direct = (() => pool.query(params.length ? { text, values: params } : text)) as () => Promise<unknown>;
      const binding = () => viaBinding(text, params);
      // A warm-up round of each, then `rounds` alternated, summed.
      await load(direct, admin, "bench-direct");
      await load(binding, admin, "bench-binding:guest");
      const sum = { d: { count: 0, nodeUs: 0, serverUs: 0 }, b: { count: 0, nodeUs: 0, serverUs: 0 } };
      for (let r = 0; r < rounds; r++) {
        for (const [k, fn, app] of [["d", direct, "bench-direct"], ["b", binding, "bench-binding:guest"]] as const) {
          const x = await load(fn, admin, app);
          sum[k].count += x.count;
          sum[k].nodeUs += x.nodeUs;
          sum[k].serverUs += x.serverUs;
        }
      }
      const per = (x: { count: number; nodeUs: number; serverUs: number }) => ({ rate: x.count / ((rounds * ROUND_MS) / 1000), nodeUs: x.nodeUs / x.count, serverUs: x.serverUs / x.count });
      out.push({ label, direct: per(sum.d), binding: per(sum.b) });
    }
  } finally {
    await admin.end();
    await pool.end();
    await db.close();
  }
  return out;
}
