import type { Benchmark } from "./lib/report.ts";
export const memory: Benchmark = { name: "memory", title: "todo", async run() { throw new Error("not written yet"); } };
