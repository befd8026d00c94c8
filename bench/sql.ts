// `select 1` and a 100-row select through a deployed function vs `pg` from Hono on Node; both over HTTP.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { probe, startHangar, type Hangar } from "./lib/hangar.ts";
import { sqlInProcess, type InProcessRow } from "./lib/sql-inproc.ts";
import { warmAndLoad, type LoadResult } from "./lib/load.ts";
import { scratchDir, startNodeScript } from "./lib/peers.ts";
import { waitForHttp } from "./lib/procs.ts";
import { table, type Benchmark } from "./lib/report.ts";
import { fmt, fmtRatio, ratio, verdict } from "./lib/stats.ts";
import { CONNECTIONS, SECONDS, WARM_SECONDS } from "./lib/time.ts";

const ONE = `import { sql } from "hangar";
export default { async fetch() { return Response.json(await sql\`select 1 as one\`); } };
`;
// The same JSON without SQL: what the request path costs on its own, on both sides.
const NONE = `export default { async fetch() { return Response.json([{ one: 1 }]); } };
`;
const ROWS = `import { sql } from "hangar";
export default { async fetch() { return Response.json(await sql\`select id, name, value from bench_rows order by id limit \${100}\`); } };
`;

async function seed(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query("create table bench_rows (id int primary key, name text not null, value float8 not null)");
  await c.query("insert into bench_rows select g, 'row-' || g, g * 1.5 from generate_series(1, 1000) g");
  await c.end();
}

export const sqlBench: Benchmark = {
  name: "sql",
  title: "SQL through a function vs direct pg (both over HTTP)",
  async run({ cluster, log }) {
    const db = await cluster.createDb("bench_sql");
    await seed(db);
    const dir = scratchDir("sql");
    writeFileSync(join(dir, "sql-one.ts"), ONE);
    writeFileSync(join(dir, "sql-rows.ts"), ROWS);
    writeFileSync(join(dir, "sql-none.ts"), NONE);
    const run = async (label: string, url: string) => {
      const r = await warmAndLoad(url, { connections: CONNECTIONS, seconds: SECONDS, warmSeconds: WARM_SECONDS });
      log(`${label}: ${fmt(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, errors ${r.errors}, non-2xx ${r.non2xx}`);
      return r;
    };

    let skip: string | null = null;
    const hangar: Record<string, LoadResult> = {};
    const h: Hangar = await startHangar({ databaseUrl: db });
    try {
      skip = await probe(h, "sql-one", join(dir, "sql-one.ts"));
      if (skip) log(`Hangar side skipped: ${skip}`);
      else {
        skip = (await probe(h, "sql-rows", join(dir, "sql-rows.ts"))) ?? (await probe(h, "sql-none", join(dir, "sql-none.ts")));
        if (!skip) {
          hangar.one = await run("hangar select 1", `${h.url}/functions/v1/sql-one`);
          hangar.rows = await run("hangar 100 rows", `${h.url}/functions/v1/sql-rows`);
          hangar.none = await run("hangar no SQL", `${h.url}/functions/v1/sql-none`);
        }
      }
    } finally {
      await h.stop();
    }

    // The binding alone (the database is migrated by now): no HTTP, no sandbox.
    let inproc: InProcessRow[] = [];
    if (!skip) {
      inproc = await sqlInProcess(db, [
        ["`select 1`", "select 1 as one", []],
        ["100-row select", "select id, name, value from bench_rows order by id limit $1", [100]],
      ]);
      for (const r of inproc) {
        log(`in process ${r.label}: binding ${fmt(r.binding.rate, 0)}/s (${fmt(r.binding.nodeUs, 0)} us node, ${fmt(r.binding.serverUs, 0)} us server per statement), pool.query ${fmt(r.direct.rate, 0)}/s (${fmt(r.direct.nodeUs, 0)} us, ${fmt(r.direct.serverUs, 0)} us)`);
      }
    }

    const direct: Record<string, LoadResult> = {};
    const p = await startNodeScript("pg-hono.ts", "/one", { DATABASE_URL: db });
    try {
      await waitForHttp(`${p.url}/rows`, p.proc);
      direct.one = await run("direct select 1", `${p.url}/one`);
      direct.rows = await run("direct 100 rows", `${p.url}/rows`);
      direct.none = await run("direct no SQL", `${p.url}/hello`);
    } finally {
      await p.stop();
    }

    const rows: (string | number)[][] = [["query", "system", "req/s", "p50 ms", "p99 ms", "errors + non-2xx", "direct / Hangar (req/s): overhead", "ms the query adds per request"]];
    const summary: string[] = [];
    const verdicts: string[] = [];
    // Time per request at a fixed connection count is connections / req/s; what the query adds is the
    // difference from the same response without it, on each side.
    const added = (r: Record<string, LoadResult>, key: string) => (r[key] && r.none ? (1000 * CONNECTIONS) / r[key].rps - (1000 * CONNECTIONS) / r.none.rps : NaN);
    for (const [key, label] of [["one", "`select 1`"], ["rows", "100-row select"], ["none", "no SQL (same JSON)"]] as const) {
      const d = direct[key];
      const g = hangar[key];
      if (g) rows.push([label, "Hangar function (`sql` binding)", fmt(g.rps, 0), g.p50, g.p99, g.errors + g.non2xx, fmtRatio(ratio(d.rps, g.rps)), key === "none" ? "" : fmt(added(hangar, key), 2)]);
      else rows.push([label, "Hangar function (`sql` binding)", "skipped", "", "", "", "", ""]);
      rows.push([label, "Hono on Node + `pg` (pool of 10)", fmt(d.rps, 0), d.p50, d.p99, d.errors + d.non2xx, "", key === "none" ? "" : fmt(added(direct, key), 2)]);
      if (key === "none") continue;
      const overhead = g ? ratio(d.rps, g.rps) : NaN;
      const sqlOnly = g ? added(hangar, key) / added(direct, key) : NaN;
      verdicts.push(`| ${label}: overhead <= 1.3x direct pg (req/s, whole request) | ${g ? verdict(overhead, 1.3, true) : "not measured (skipped)"} |`);
      verdicts.push(`| ${label}: time the query adds, Hangar / direct (request path excluded) | ${g ? fmtRatio(sqlOnly) : "not measured (skipped)"} |`);
      summary.push(`${label}: ${g ? `Hangar ${fmt(g.rps, 0)} req/s, ` : "Hangar skipped, "}direct ${fmt(d.rps, 0)} req/s${g ? `, overhead ${fmtRatio(overhead)}; query alone ${fmtRatio(sqlOnly)}` : ""}`);
    }
    if (skip) summary.push(`Hangar side skipped: ${skip}`);
    const inRows: (string | number)[][] = [["statement", "path", "statements/s", "node CPU us / statement", "server CPU us / statement", "pool.query / binding (statements/s)"]];
    for (const r of inproc) {
      inRows.push([r.label, "`sql.query` host function (bindings per call, guest pool)", fmt(r.binding.rate, 0), fmt(r.binding.nodeUs, 0), fmt(r.binding.serverUs, 0), fmtRatio(ratio(r.direct.rate, r.binding.rate))]);
      inRows.push([r.label, "`pool.query` (pg, pool of 10)", fmt(r.direct.rate, 0), fmt(r.direct.nodeUs, 0), fmt(r.direct.serverUs, 0), ""]);
      verdicts.push(`| ${r.label}, binding alone in process: <= 1.3x pool.query (statements/s) | ${verdict(ratio(r.direct.rate, r.binding.rate), 1.3, true)} |`);
      summary.push(`${r.label} in process: binding ${fmt(r.binding.rate, 0)}/s vs pool.query ${fmt(r.direct.rate, 0)}/s, ${fmtRatio(ratio(r.direct.rate, r.binding.rate))}`);
    }
    const markdown = `${skip ? `**Hangar side skipped**: the \`sql\` binding is not usable in the guest yet (probe function \`import { sql } from "hangar"\`, \`select 1\`): ${skip}\n\n` : ""}${CONNECTIONS} connections, ${WARM_SECONDS} s warm-up then ${SECONDS} s per row. The table \`bench_rows\` has 1,000 rows; the
100-row query is \`select id, name, value from bench_rows order by id limit $1\` in both. Overhead is direct req/s
divided by Hangar req/s (1.00x = no overhead). The direct \`select 1\` goes through pg's simple protocol (no
parameters); guest SQL always uses the extended protocol. "ms the query adds" is ${CONNECTIONS} / req/s minus the same
for the response without SQL on the same side, so the request path (HTTP, sandbox) is taken out; its ratio is the
SQL binding's own overhead.

${table(rows)}

The binding alone, in the bench process (16 concurrent callers, 2 s rounds alternated x 3; no HTTP, no sandbox):
an autocommit statement is one round trip (context, statement and session reset behind one Sync, see
host/bindings/sql/README.md). Server CPU is the backends' own (/proc), NaN when the cluster is not local.

${inRows.length > 1 ? table(inRows) : "(not measured: Hangar side skipped)"}

| target | result |
|---|---|
${verdicts.join("\n")}
`;
    return { markdown, summary };
  },
};
