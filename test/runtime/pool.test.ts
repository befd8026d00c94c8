import { test } from "node:test";
import assert from "node:assert/strict";
import { createRuntime } from "../../runtime/index.ts";
import { LIMITS, ROOMY, input, fetchBundle, req } from "./helpers.ts";

const OK = fetchBundle(`async () => new Response("ok")`);

test("concurrent loads share one creation; get/evict/stats; close is safe twice", async () => {
  const rt = await createRuntime();
  const [a, b, c] = await Promise.all([rt.load("v1", OK, { limits: LIMITS }), rt.load("v1", OK, { limits: LIMITS }), rt.load("v1", OK, { limits: LIMITS })]);
  assert.equal(a, b);
  assert.equal(b, c);
  assert.equal(rt.get("v1"), a);
  assert.deepEqual(rt.stats(), { instances: 1, heapBytes: a.memoryBytes() });
  await rt.evict("v1");
  assert.equal(rt.get("v1"), undefined);
  await rt.close();
  await rt.close();
  await assert.rejects(rt.load("v2", OK, { limits: LIMITS }), /closed/);
});

test("memory budget evicts least recently used idle instances", async () => {
  const rt = await createRuntime({ memoryBudgetMb: 5 }); // each instance holds about 2 MiB: two fit, a third evicts
  await rt.load("a", OK, { limits: LIMITS });
  await rt.load("b", OK, { limits: LIMITS });
  rt.get("a"); // a is now the most recently used
  await rt.load("c", OK, { limits: LIMITS });
  assert.equal(rt.stats().instances, 2);
  assert.ok(rt.get("a") && rt.get("c") && !rt.get("b"));
  await rt.close();
});

test("an instance killed by a limit is dropped and the next load builds a fresh one", async () => {
  const rt = await createRuntime();
  const src = fetchBundle(`async (r) => { if (new URL(r.url).pathname === "/boom") { const a = []; for (;;) a.push(new ArrayBuffer(1 << 20)); } return new Response("fine"); }`);
  const inst = await rt.load("m", src, { limits: ROOMY });
  const slow = inst.fetch(req("/"), input({ limits: ROOMY }));
  const o = await inst.fetch(req("/boom"), input({ limits: ROOMY }));
  assert.ok(!o.ok && o.error.kind === "memory");
  await slow; // finished before or failed with the module: either way it answered
  assert.equal(rt.get("m"), undefined);
  const fresh = await rt.load("m", src, { limits: ROOMY });
  assert.notEqual(fresh, inst);
  const o2 = await fresh.fetch(req("/"), input({ limits: ROOMY }));
  assert.ok(o2.ok);
  assert.equal(await o2.value.text(), "fine");
  assert.ok(fresh.memoryBytes() < 32 * 1024 * 1024);
  await rt.close();
});
