// RESULTS.md: a header describing the machine and run, then one section per
// benchmark. Running one benchmark replaces only its own section.
import { execSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { resolve } from "node:path";
import type { Cluster } from "./pg.ts";

export const RESULTS = resolve(import.meta.dirname, "../RESULTS.md");

export interface BenchContext {
  cluster: Cluster;
  log(msg: string): void;
}

export interface BenchResult {
  /** Markdown body of the section (tables, notes). */
  markdown: string;
  /** One-line findings for the console summary. */
  summary: string[];
}

export interface Benchmark {
  name: string;
  title: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

export function machine(pgVersion: string): string {
  const model = /model name\s*:\s*(.*)/.exec(existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "")?.[1] ?? cpus()[0]?.model ?? "unknown";
  let nproc = String(cpus().length);
  try {
    nproc = execSync("nproc", { encoding: "utf8" }).trim();
  } catch {
    /* keep os.cpus() */
  }
  const kernel = (() => {
    try {
      return execSync("uname -sr", { encoding: "utf8" }).trim();
    } catch {
      return "unknown";
    }
  })();
  return [
    `- CPU: ${model}; nproc ${nproc}`,
    `- memory: ${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    `- Node ${process.version}; PostgreSQL ${pgVersion}; ${kernel}`,
  ].join("\n");
}

/** Table from rows; first row is the header. */
export function table(rows: (string | number)[][]): string {
  const [head, ...body] = rows;
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...body.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

const HEADER_END = "<!-- /header -->";

/** What follows this line in a section is the engineers' notes on it: a rerun keeps them under its new figures. */
export const NOTES = "<!-- notes -->";

/** Write the header and replace the given sections, keeping the others (and each replaced one's notes). */
export function writeResults(header: string, sections: Map<string, string>, order: string[]): void {
  const old = existsSync(RESULTS) ? readFileSync(RESULTS, "utf8") : "";
  const kept = new Map<string, string>();
  for (const m of old.matchAll(/<!-- bench:(\w+) -->\n([\s\S]*?)<!-- \/bench:\1 -->/g)) kept.set(m[1], m[2]);
  for (const [k, v] of sections) {
    const before = kept.get(k) ?? "";
    const at = before.indexOf(NOTES);
    kept.set(k, at < 0 ? v : `${v.trimEnd()}\n\n${before.slice(at)}`);
  }
  const body = order.filter((n) => kept.has(n)).map((n) => `<!-- bench:${n} -->\n${kept.get(n)!.trimEnd()}\n<!-- /bench:${n} -->`);
  writeFileSync(RESULTS, `${header.trimEnd()}\n${HEADER_END}\n\n${body.join("\n\n")}\n`);
}
