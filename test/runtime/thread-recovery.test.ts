// Sandbox threads recover without collateral damage: a loop of long native
// calls is stopped by the natives themselves (past the deadline a native does
// no work, so the watchdog never has to terminate the thread), and
// invocations queued behind one that killed its instance run on a fresh one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRuntime } from "../../runtime/index.ts";
import type { SandboxPool } from "../../runtime/worker/pool.ts";
import { ROOMY, fetchBundle, input, req } from "./helpers.ts";

test("natives refuse work past the CPU deadline: 546-style cpu failure, thread kept", { timeout: 120_000 }, async () => {
  const rt = (await createRuntime({ threads: 1 })) as SandboxPool;
  try {
    // each btoa of 2 MiB takes milliseconds; the engine polls its interrupt handler only every ~10,000 operations
    const src = fetchBundle(`async () => { const s = "a".repeat(2 << 20); let n = 0; for (;;) { try { btoa(s); n++; } catch { n--; } } }`);
    const limits = { cpuMs: 300, wallMs: 60_000, memoryMb: 256, subrequests: 0 };
    const inst = await rt.load("natives-loop", src, { limits });
    const before = rt.threadStats();
    const o = await inst.fetch(req("/"), input({ limits }));
    assert.ok(!o.ok, "the loop never answers");
    assert.equal(o.error.kind, "cpu", o.error.message);
    assert.deepEqual(rt.threadStats(), before, "stopped from inside: no thread was terminated");
  } finally {
    await rt.close();
  }
});

test("invocations queued behind one that kills its instance run on a fresh instance", { timeout: 120_000 }, async () => {
  const rt = (await createRuntime({ threads: 1 })) as SandboxPool;
  try {
    const src = fetchBundle(`async (r) => { if (new URL(r.url).pathname === "/boom") { const a = []; for (;;) a.push(new ArrayBuffer(1 << 20)); } return new Response("fine"); }`);
    const inst = await rt.load("hog", src, { limits: ROOMY });
    const boom = inst.fetch(req("/boom"), input({ limits: ROOMY }));
    // offered while /boom holds the thread: taken only after its instance is gone
    const queued = await Promise.all([1, 2, 3].map(() => inst.fetch(req("/"), input({ limits: ROOMY }))));
    const b = await boom;
    assert.ok(!b.ok && b.error.kind === "memory", "the hog ends with its memory limit");
    for (const o of queued) {
      assert.ok(o.ok, o.ok ? "" : `queued invocation failed: ${o.error.message}`);
      assert.equal(await o.value.text(), "fine");
    }
  } finally {
    await rt.close();
  }
});
