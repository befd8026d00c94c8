import type { Benchmark } from "./lib/report.ts";
export const sqlBench: Benchmark = { name: "sql", title: "todo", async run() { throw new Error("not written yet"); } };
