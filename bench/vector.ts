import type { Benchmark } from "./lib/report.ts";
export const vectorBench: Benchmark = { name: "vector", title: "todo", async run() { throw new Error("not written yet"); } };
