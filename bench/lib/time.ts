/** Measured seconds per load run; BENCH_SECONDS shortens a run for trying the harness. */
export const SECONDS = Number(process.env.BENCH_SECONDS) || 10;
export const WARM_SECONDS = Math.max(1, Math.round(SECONDS / 4));
export const CONNECTIONS = 32;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
