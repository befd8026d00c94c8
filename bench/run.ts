// `npm run bench [-- name...]`: start a throwaway Postgres, run the selected
// benchmarks (each starts its systems fresh, loopback only), print the
// ratios and write bench/RESULTS.md. Nothing here asserts on time.
import { startCluster } from "./lib/pg.ts";
import { stopAll } from "./lib/procs.ts";
import { machine, writeResults, type Benchmark } from "./lib/report.ts";
import { http } from "./http.ts";
import { cold } from "./cold.ts";
import { sqlBench } from "./sql.ts";
import { vectorBench } from "./vector.ts";
import { events } from "./events.ts";
import { memory } from "./memory.ts";
import { logsBench } from "./logs.ts";

const ALL: Benchmark[] = [http, cold, sqlBench, vectorBench, events, memory, logsBench];
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

async function main(): Promise<number> {
  const names = process.argv.slice(2).filter((a) => !a.startsWith("-"));
  const unknown = names.filter((n) => !ALL.some((b) => b.name === n));
  if (unknown.length) {
    log(`unknown benchmark ${unknown.join(", ")}; choose from ${ALL.map((b) => b.name).join(", ")}`);
    return 2;
  }
  const selected = names.length ? ALL.filter((b) => names.includes(b.name)) : ALL;
  const command = `npm run bench${names.length ? ` -- ${names.join(" ")}` : ""}`;
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const t0 = performance.now();
  const cluster = await startCluster(log);
  const sections = new Map<string, string>();
  const summary: string[] = [];
  let failed = 0;
  for (const b of selected) {
    log(`--- ${b.name}: ${b.title}`);
    const tb = performance.now();
    let md: string;
    try {
      const r = await b.run({ cluster, log });
      md = r.markdown;
      summary.push(...r.summary.map((s) => `${b.name}: ${s}`));
    } catch (err) {
      failed++;
      const msg = (err as Error).stack ?? String(err);
      log(`${b.name} failed: ${msg}`);
      md = `The benchmark failed in this run:\n\n\`\`\`\n${msg.slice(0, 2000)}\n\`\`\``;
      summary.push(`${b.name}: FAILED (${(err as Error).message.split("\n")[0]})`);
    } finally {
      await stopAll();
    }
    const secs = ((performance.now() - tb) / 1000).toFixed(0);
    sections.set(b.name, `## ${b.name}: ${b.title}\n\nRun by \`${command}\` on ${date} (${secs} s).\n\n${md}`);
    log(`${b.name} took ${secs} s`);
  }
  const header = `# Hangar benchmarks

Produced by \`npm run bench\` (all) or \`npm run bench -- <name>\` (one of
${ALL.map((b) => `\`${b.name}\``).join(", ")}). Every system is started fresh per benchmark
and measured over 127.0.0.1 only; ratios compare figures from the same run.
Nothing here is a pass/fail test: targets are stated as met or missed. A section's notes (below its
\`<!-- notes -->\` line) are kept when it is rerun.

Last run: \`${command}\` on ${date}, ${((performance.now() - t0) / 1000).toFixed(0)} s.

${machine(cluster.version)}
`;
  writeResults(header, sections, ALL.map((b) => b.name));
  process.stdout.write(`\n${summary.join("\n")}\n\nwrote bench/RESULTS.md\n`);
  return failed ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} finally {
  await stopAll();
}
process.exit(code);
