// Guests run on sandbox threads: a function spinning at its CPU limit cannot
// freeze the others or the health check, and a guest that overruns its limit
// inside one long native call has its thread stopped and replaced.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { HangarServer } from "../../host/server/index.ts";
import type { SandboxPool } from "../../runtime/worker/pool.ts";
import { devConfig, serveDeployed } from "../helpers/server.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let t: TestDatabase;
let dir: string;
let server: HangarServer;

before(async () => {
  t = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), "hangar-isolation-"));
  await writeFile(join(dir, "spin.ts"), `export const config = { limits: { cpuMs: 1000 } };
export default { async fetch() { for (;;) {} } };`);
  await writeFile(join(dir, "ping.ts"), `export default { async fetch() { return new Response("pong"); } };`);
  await writeFile(join(dir, "natives.ts"), `export const config = { limits: { cpuMs: 300, memoryMb: 256 } };
export default { async fetch() { for (let i = 0; i < 100000; i++) new Uint8Array(64 * 1024 * 1024).fill(1); return new Response("escaped"); } };`);
  const config = devConfig(dir, { HANGAR_SANDBOX_THREADS: "2" });
  server = await serveDeployed(config, t.db);
});

after(async () => {
  await server?.close();
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

test("functions spinning at their CPU limit do not freeze another function or the health check", { timeout: 180_000 }, async (ctx) => {
  assert.equal((await fetch(`${server.url}/functions/v1/ping`)).status, 200); // warm
  let spinning = true;
  const spinStatuses: number[] = [];
  // four concurrent spinners, each re-issued as soon as it is stopped, for the whole probe window
  const spinners = Array.from({ length: 4 }, async () => {
    while (spinning) spinStatuses.push((await fetch(`${server.url}/functions/v1/spin`)).status);
  });
  const latencies: number[] = [];
  const failures: string[] = [];
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const probeUntil = performance.now() + 4000;
  while (performance.now() < probeUntil || spinStatuses.length < 4) {
    const tick = new Promise((r) => setTimeout(r, 100));
    for (const path of ["/functions/v1/ping", "/_hangar/health"]) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        if (res.status !== 200) failures.push(`${path}: ${res.status}`);
      } catch (e) {
        failures.push(`${path}: ${(e as Error).message}`);
      }
      latencies.push(performance.now() - t0);
    }
    await tick;
  }
  spinning = false;
  loop.disable();
  await Promise.all(spinners);
  ctx.diagnostic(`main thread event-loop delay: p50 ${(loop.percentile(50) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms; spins ${spinStatuses.length}`);
  latencies.sort((a, b) => a - b);
  ctx.diagnostic(`probes ${latencies.length}: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`);
  assert.deepEqual(failures, [], "every probe answered 200");
  assert.ok(spinStatuses.length >= 4 && spinStatuses.every((s) => s === 546), `spinners end with 546: ${spinStatuses}`);
  // a spinner never holds a probe for its whole CPU limit: the main thread kept serving
  assert.ok(percentile(latencies, 50) < 1000, `median probe ${percentile(latencies, 50)} ms`);
});

test("a loop of long native calls overrunning cpuMs ends with 546 and its thread is replaced", { timeout: 120_000 }, async () => {
  const pool = server.core.runtime as SandboxPool;
  const before = pool.threadStats();
  const t0 = performance.now();
  const res = await fetch(`${server.url}/functions/v1/natives`);
  const ms = performance.now() - t0;
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(res.status, 546, JSON.stringify(body));
  assert.equal(body.error.code, "CPU_LIMIT");
  // the limit is 300 ms; a fill of 64 MiB takes tens of ms, the whole loop minutes
  assert.ok(ms < 15_000, `stopped after ${ms} ms`);
  assert.equal(pool.threadStats().replaced, before.replaced + 1, "the thread was terminated and replaced");
  assert.equal(pool.threadStats().threads, before.threads, "the pool kept its size");
  const again = await fetch(`${server.url}/functions/v1/ping`);
  assert.equal(again.status, 200);
  assert.equal(await again.text(), "pong");
});
