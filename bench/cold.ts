import type { Benchmark } from "./lib/report.ts";
export const cold: Benchmark = { name: "cold", title: "todo", async run() { throw new Error("not written yet"); } };
