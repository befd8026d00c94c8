// Memory snapshots: a restored instance behaves like a freshly evaluated one;
// a snapshot from another build, or a corrupted one, is refused and the
// version is evaluated instead.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { InstanceFactory, snapshotKey } from "../../runtime/snapshot/factory.ts";
import type { Instance, RestoreContext } from "../../runtime/instance.ts";
import type { HostFunctions } from "../../runtime/types.ts";
import { createRuntime } from "../../runtime/index.ts";
import { engineLayout, newEngineModule, PAGE, stackGap, type EngineModule } from "../../runtime/engine.ts";
import { decodeSnapshot } from "../../runtime/snapshot/format.ts";
import { restoreImage } from "../../runtime/snapshot/diff.ts";
import type { MemoryImage } from "../../runtime/snapshot/image.ts";
import { zeroFreeHeap } from "../../runtime/snapshot/heap.ts";
import type { SandboxPool } from "../../runtime/worker/pool.ts";
import { LIMITS, ROOMY, input, moduleBundle, req } from "./helpers.ts";
import { waitFor } from "../helpers/wait.ts";

const factory = new InstanceFactory();
after(() => factory.close());

const BUNDLE = moduleBundle(`
  console.log("top level ran");
  let count = 0;
  const seed = Math.random();
  const handler = {
    async fetch(request) {
      const u = new URL(request.url);
      if (u.pathname === "/spin") for (;;) {}
      if (u.pathname === "/hog") { const a = []; for (;;) a.push("x".repeat(1 << 20) + a.length); }
      count++;
      await new Promise((r) => setTimeout(r, 5));
      const who = await globalThis.__hangar.sql.query("select 1", []);
      return Response.json({ count, seed, now: Math.random(), who: who[0].who, env: Deno.env.get("GREETING") });
    },
  };`);

const host: HostFunctions = { "sql.query": async (_args, info) => [{ who: info.requestId }] };
const opts = (logs: string[] = []) => ({ limits: ROOMY, onConsole: (_l: string, m: string) => void logs.push(m) });

async function call(inst: Instance, path = "/", requestId = "r1", limits = ROOMY) {
  const o = await inst.fetch(req(path), input({ requestId, host, limits }));
  if (!o.ok) return { error: o.error };
  return (await o.value.json()) as { count: number; seed: number; now: number; who: string; env: string };
}

test("a restored instance behaves like the evaluated one: module state, timers, host calls, identity, env", async () => {
  const logs: string[] = [];
  const fresh = await factory.load("v-same", BUNDLE, opts(logs));
  assert.deepEqual(logs, ["top level ran"]);
  assert.equal(factory.cache.size, 1, "the evaluated version was snapshotted");
  const a = await factory.load("v-same", BUNDLE, opts(logs));
  const b = await factory.load("v-same", BUNDLE, opts(logs));
  assert.deepEqual(logs, ["top level ran"], "restores do not run top-level code again");
  assert.equal(factory.stats.restored, 2);
  assert.deepEqual([...a.handlers], [...fresh.handlers]);

  const f1 = await call(fresh);
  const [a1, b1] = await Promise.all([call(a, "/", "alice"), call(b, "/", "bob")]);
  const a2 = await call(a, "/", "carol");
  for (const r of [f1, a1, b1, a2]) assert.ok(!("error" in r), JSON.stringify(r));
  const [F1, A1, B1, A2] = [f1, a1, b1, a2] as Exclude<typeof f1, { error: unknown }>[];
  assert.equal(F1.count, 1);
  assert.equal(A1.count, 1, "a restored instance starts from the snapshot's module state");
  assert.equal(B1.count, 1, "restored instances do not share state");
  assert.equal(A2.count, 2, "and keeps its own state across invocations");
  assert.equal(A1.seed, F1.seed, "top-level values come from the snapshot (documented)");
  assert.deepEqual([A1.who, B1.who, A2.who], ["alice", "bob", "carol"], "host calls answer the invocation that made them");
  assert.equal(A1.env, "hello");
  assert.notEqual(A1.now, B1.now, "Math.random is reseeded per restore");
  for (const i of [fresh, a, b]) await i.close();
});

test("a snapshot restores the evaluated instance's memory at capture byte for byte, into a fresh or a used module", async () => {
  const { inst, snapshot } = await factory.loadFrom("v-bytes", BUNDLE, opts());
  const make = snapshot!()!;
  // the state at capture (its free heap zeroed, which no program can tell), whatever the instance does next
  const want = new Uint8Array((inst as unknown as { engine: EngineModule }).engine.memory.buffer).slice();
  zeroFreeHeap(want, engineLayout().stackTop);
  assert.equal(((await call(inst)) as { count: number }).count, 1);
  const bytes = make();
  await inst.close();
  const base = await (factory as unknown as { baseImage(): Promise<{ image: { memory: MemoryImage }; fingerprint: string; rc: RestoreContext }> }).baseImage();
  const img = decodeSnapshot(bytes, base.fingerprint, base.image.memory);
  assert.ok("base" in img.memory && img.memory.data.byteLength < 256 * 1024, "a small version's snapshot carries blocks, not pages");
  const [gapFrom, gapTo] = stackGap();
  const outsideGap = (m: Uint8Array) => [m.subarray(0, gapFrom), m.subarray(gapTo, want.byteLength)];

  const fresh = await newEngineModule(ROOMY.memoryMb, want.byteLength / PAGE);
  restoreImage(fresh.memory, img.memory, { chunks: base.rc.dirty });
  assert.deepEqual(outsideGap(new Uint8Array(fresh.memory.buffer)), outsideGap(want), "into a fresh module");

  const used = await newEngineModule(ROOMY.memoryMb, want.byteLength / PAGE);
  const junk = new Uint8Array(used.memory.buffer);
  for (let i = 0; i < junk.length; i += 4093) junk.fill((i >> 12) | 1, i, i + 2048); // another instance's bytes, everywhere
  restoreImage(used.memory, img.memory, base.rc.usedDirty(used.memory));
  assert.deepEqual(outsideGap(new Uint8Array(used.memory.buffer)), outsideGap(want), "into a used module");

  // a module given the prelude image ahead of need (a spare, a recycled module) gets only the diff written
  const imprinted = await newEngineModule(ROOMY.memoryMb, want.byteLength / PAGE);
  restoreImage(imprinted.memory, base.image.memory, { chunks: base.rc.dirty });
  restoreImage(imprinted.memory, img.memory, { chunks: [] as unknown as Uint32Array }, base.image.memory);
  assert.deepEqual(outsideGap(new Uint8Array(imprinted.memory.buffer)), outsideGap(want), "into a module holding the prelude image");

  // and an instance restored into a module another version used works from the snapshot's state
  await (await factory.load("v-junk", moduleBundle(`
    globalThis.junk = Array.from({ length: 20000 }, (_, i) => ({ i, s: "junk" + i }));
    const handler = { async fetch() { return new Response("x"); } };`), opts())).close();
  const { inst: restored } = await factory.loadFrom("v-bytes", BUNDLE, opts(), bytes);
  assert.equal(((await call(restored)) as { count: number }).count, 1);
  await restored.close();
});

test("limits hold in a restored instance: CPU, then memory (the module is thrown away)", async () => {
  await factory.load("v-limits", BUNDLE, opts()).then((i) => i.close());
  const inst = await factory.load("v-limits", BUNDLE, opts());
  const spin = await call(inst, "/spin", "r", LIMITS);
  assert.ok("error" in spin && spin.error.kind === "cpu", JSON.stringify(spin));
  const ok = await call(inst, "/");
  assert.ok(!("error" in ok) && ok.count === 1, "the instance survives a CPU stop");
  const hog = await call(inst, "/hog", "r", LIMITS);
  assert.ok("error" in hog && hog.error.kind === "memory", JSON.stringify(hog));
  assert.equal(inst.alive, false);
  assert.ok(inst.memoryBytes() < 64 * 1024 * 1024 + 65536 * 32);
});

test("a snapshot from another engine build, or a corrupted one, is refused and the version evaluated", async () => {
  const logs: string[] = [];
  await factory.load("v-refuse", BUNDLE, opts(logs)).then((i) => i.close());
  const key = snapshotKey("v-refuse", BUNDLE, opts());
  const good = factory.cache.get(key)!;
  assert.ok(good, "a snapshot was kept");

  const otherBuild = good.slice();
  otherBuild.set(new TextEncoder().encode("0".repeat(64)), 8); // another build's fingerprint
  const corrupted = good.slice();
  corrupted[corrupted.length - 100] ^= 0xff; // one flipped bit deep in the memory image

  const truncated = good.slice(0, good.length - 64); // a block short

  for (const bad of [otherBuild, corrupted, truncated]) {
    factory.cache.set(key, bad);
    const refused = factory.stats.refused;
    logs.length = 0;
    const inst = await factory.load("v-refuse", BUNDLE, opts(logs));
    assert.equal(factory.stats.refused, refused + 1, "the snapshot was refused");
    assert.deepEqual(logs, ["top level ran"], "the version was evaluated instead");
    const r = await call(inst);
    assert.ok(!("error" in r) && r.count === 1);
    await inst.close();
  }
});

test("sandbox threads: an evicted version comes back from the pool's snapshot, with its own state", async () => {
  const rt = await createRuntime({ threads: 2 });
  try {
    const logs: string[] = [];
    const first = await rt.load("v-pool", BUNDLE, opts(logs));
    assert.equal(((await call(first as Instance)) as { count: number }).count, 1);
    await rt.evict("v-pool");
    // made after the first request was answered (or at the unload), then sent
    await waitFor("the pool keeps the snapshot the thread made", () => (rt as SandboxPool).snapshots?.size === 1);
    const again = await rt.load("v-pool", BUNDLE, opts(logs));
    assert.equal(((await call(again as Instance, "/", "dave")) as { count: number; who: string }).count, 1);
    assert.deepEqual(logs, ["top level ran"], "the second load was a restore");
  } finally {
    await rt.close();
  }
});

test("sandbox threads: a load is answered before its snapshot is captured; a load of the same bundle meanwhile waits and restores", async () => {
  const rt = await createRuntime({ threads: 2 });
  try {
    const logs: string[] = [];
    await rt.load("v-early", BUNDLE, opts(logs));
    // asked at once, before the thread has sent the snapshot: not a second evaluation
    const twin = await rt.load("v-twin", BUNDLE, opts(logs));
    assert.deepEqual(logs, ["top level ran"], "the second version id with the same bundle was restored");
    assert.equal(((await call(twin as Instance)) as { count: number }).count, 1);
    assert.equal((rt as SandboxPool).capturing.size, 0, "nothing is left waiting");
  } finally {
    await rt.close();
  }
});

test("sandbox threads: a cold start from a kept snapshot takes its first request at once, behind the restore; a failed restore's snapshot is dropped", async () => {
  const rt = (await createRuntime({ threads: 2 })) as SandboxPool;
  const threads = () => (rt as unknown as { threads: { loads: Map<number, unknown> }[] }).threads;
  try {
    const logs: string[] = [];
    await rt.load("v-fold", BUNDLE, opts(logs));
    await waitFor("the snapshot kept", () => rt.snapshots?.size === 1 && rt.capturing.size === 0);
    await rt.evict("v-fold");
    const again = await rt.load("v-fold", BUNDLE, opts(logs));
    assert.ok(threads().some((t) => t.loads.size === 1), "the load returned before the thread restored the instance");
    const r = await call(again as Instance, "/", "erin");
    assert.ok(!("error" in r) && r.count === 1 && r.who === "erin", JSON.stringify(r));
    assert.deepEqual(logs, ["top level ran"], "restored, not evaluated");

    // a version whose top level throws when evaluated again (after a deadline), its snapshot corrupted:
    // the thread refuses the snapshot, evaluates, fails; the request is started again and reports why
    const deadline = Date.now() + 2_000; // room for the first evaluation on a loaded machine
    const late = moduleBundle(`
      if (Date.now() > ${deadline}) throw new Error("evaluated too late");
      const handler = { async fetch() { return new Response("ok"); } };`);
    const first = await rt.load("v-late", late, opts());
    assert.equal(await ((await first.fetch(req("/"), input({ host }))) as { ok: true; value: Response }).value.text(), "ok");
    await waitFor("the snapshot kept", () => rt.snapshots?.size === 2 && rt.capturing.size === 0);
    await rt.evict("v-late");
    await waitFor("the deadline", () => Date.now() > deadline + 5);
    const key = snapshotKey("v-late", late, opts());
    const kept = rt.snapshots!.get(key)!;
    kept[kept.length - 100] ^= 0xff;
    const cold = await rt.load("v-late", late, opts());
    const o = await cold.fetch(req("/"), input({ host }));
    assert.ok(!o.ok && /evaluated too late/.test(o.error.message), JSON.stringify(o));
    assert.equal(rt.snapshots!.get(key), undefined, "the snapshot is not trusted again");
    await assert.rejects(rt.load("v-late", late, opts()), /evaluated too late/);
  } finally {
    await rt.close();
  }
});

test("sandbox threads: a parked instance that ran nothing (a deploy's evaluation) is the next load of the same bundle, memory and env; a used one is not", async () => {
  const rt = (await createRuntime({ threads: 2 })) as SandboxPool;
  try {
    const logs: string[] = [];
    const deploy = await rt.load("deploy:v", BUNDLE, opts(logs));
    await rt.park("deploy:v");
    assert.equal(rt.get("deploy:v"), undefined, "a parked instance is not served under its own id");
    assert.ok(rt.stats().heapBytes > 0, "but its memory still counts");
    const version = await rt.load("v-parked", BUNDLE, opts(logs));
    assert.equal(version, deploy, "the version's load took the parked instance, no restore");
    assert.equal(rt.stats().instances, 1);
    const r = await call(version as Instance, "/", "fay");
    assert.ok(!("error" in r) && r.count === 1 && r.who === "fay", JSON.stringify(r));
    assert.deepEqual(logs, ["top level ran"]);

    // one that ran an invocation is evicted instead: the next load of the bundle restores a fresh state
    await rt.park("v-parked");
    const next = await rt.load("v-next", BUNDLE, opts(logs));
    assert.notEqual(next, version);
    assert.equal(((await call(next as Instance)) as { count: number }).count, 1, "not the used instance's state");

    // another env is another snapshot key: the parked instance is not taken (the runtime's close drops it)
    const other = await rt.load("deploy:w", BUNDLE, opts(logs));
    await rt.park("deploy:w");
    const withEnv = await rt.load("v-env", BUNDLE, { ...opts(logs), env: { GREETING: "hi" } });
    assert.notEqual(withEnv, other);
    assert.equal(((await call(withEnv as Instance)) as { count: number }).count, 1);
    assert.deepEqual(logs, ["top level ran", "top level ran"], "evaluated once more, for the new env");
  } finally {
    await rt.close();
  }
});

test("free heap memory is zeroed before a capture (dlmalloc's free chunks found and walked), and the instance still works", async () => {
  const inst = await (await factory.prepare(ROOMY.memoryMb)).load("v-heap", moduleBundle(`
    let junk = []; for (let i = 0; i < 2000; i++) junk.push({ i, s: "x" + i }); junk = null;
    const handler = { async fetch() { return Response.json({ ok: [1, 2, 3].map((x) => ({ x })).length }); } };`), opts());
  const engine = (inst as unknown as { engine: { memory: WebAssembly.Memory } }).engine;
  assert.ok(zeroFreeHeap(engine.memory, engineLayout().stackTop) > 0, "some free chunk was zeroed");
  const o = await inst.fetch(req("/"), input({ limits: ROOMY }));
  assert.ok(o.ok);
  assert.deepEqual(await o.value.json(), { ok: 3 });
  await inst.close();
});

test("a large bundle is evaluated, and its large snapshot restored, into memory written ahead (a pre-faulted spare); small ones never make one", async () => {
  const own = new InstanceFactory();
  const other = new InstanceFactory();
  try {
    const small = await own.load("v-small", BUNDLE, opts());
    await small.close();
    await own.load("v-small-2", BUNDLE.replace("top level ran", "top level ran again"), opts()).then((i) => i.close());
    assert.equal(own.prefaultedReady(ROOMY.memoryMb), false, "small loads make no pre-faulted spare");
    // 300 KB of module-scope functions, all reachable from the handler (and the same module state as BUNDLE)
    const fns = Array.from({ length: 2600 }, (_, i) => `function f${i}(a, b) { const o = { k: a + ${i}, s: "v${i}" + b }; return o.k > b ? o.s.length : [a, b, ${i}].map((x) => x * 2).length; }`);
    const large = (tag: string) => BUNDLE.replace("let count = 0;", `let count = 0; const ${tag} = [${fns.map((_, i) => `f${i}`).join(", ")}];\n${fns.join("\n")}`);
    const [a, b] = [large("all_a"), large("all_b")];
    assert.ok(a.length > 256 * 1024, `the bundle is large (${a.length} bytes)`);
    const first = await own.load("v-large-a", a, opts());
    assert.equal(own.stats.prefaulted, 0, "the first large load of a memory class pays its own faults");
    await waitFor("a pre-faulted spare made after the first large load", () => own.prefaultedReady(ROOMY.memoryMb));
    const logs: string[] = [];
    const inst = await own.load("v-large-b", b, opts(logs));
    assert.equal(own.stats.prefaulted, 1, "the next large bundle is evaluated into the spare");
    assert.deepEqual(logs, ["top level ran"]);
    assert.ok(inst.reservedBytes() >= first.reservedBytes(), "its memory holds the room written ahead");
    const r1 = await call(inst), r2 = await call(inst, "/", "r2");
    assert.ok(!("error" in r1) && !("error" in r2), JSON.stringify([r1, r2]));
    assert.deepEqual([r1.count, r2.count, r2.who, r2.env], [1, 2, "r2", "hello"], "module state, host calls and env as in a fresh instance");
    const spun = await call(inst, "/spin", "r3", { ...ROOMY, cpuMs: 200 });
    assert.ok("error" in spun && spun.error.kind === "cpu", `limits hold in it: ${JSON.stringify(spun)}`);

    // another factory (another thread) restores the snapshot: into a fresh module first, then into its own spare
    const snap = own.cache.get(snapshotKey("v-large-b", b, opts()))!;
    assert.ok(snap, "the large version was snapshotted");
    const cold = await other.loadFrom("v-large-b", b, opts(), snap);
    assert.equal(other.stats.prefaulted, 0);
    await waitFor("a spare made after a large restore, for the next one", () => other.prefaultedReady(ROOMY.memoryMb));
    const warm = await other.loadFrom("v-large-b", b, opts(logs), snap);
    assert.equal(other.stats.prefaulted, 1, "the next large restore takes it");
    assert.equal(other.stats.restored, 2);
    assert.deepEqual(logs, ["top level ran"], "restores do not run top-level code");
    for (const restored of [cold.inst, warm.inst]) {
      const r = await call(restored, "/", "cold");
      assert.ok(!("error" in r) && r.count === 1 && r.who === "cold" && r.seed === r1.seed, JSON.stringify(r));
    }
    for (const i of [first, inst, cold.inst, warm.inst]) await i.close();
  } finally {
    await own.close();
    await other.close();
  }
});
