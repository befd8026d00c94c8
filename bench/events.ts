import type { Benchmark } from "./lib/report.ts";
export const events: Benchmark = { name: "events", title: "todo", async run() { throw new Error("not written yet"); } };
