import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createRuntime, BundleEvalError } from "../../runtime/index.ts";
import { STREAM_WINDOW } from "../../runtime/worker/protocol.ts";
import { PULL_CHUNKS } from "../../runtime/body-stream.ts";
import { LIMITS, input, fetchBundle, req } from "./helpers.ts";

const rt = await createRuntime();
after(() => rt.close());

/** Memory is the subject: CPU room so a loaded machine (or the watchdog) cannot stop the loop for CPU first. */
const MEMORY_ONLY = { ...LIMITS, cpuMs: 20_000, wallMs: 30_000 };

const OK = fetchBundle(`async () => new Response("ok")`);
let n = 0;

async function load(src: string, limits = LIMITS) {
  return rt.load(`fn-${n++}`, src, { limits });
}

/** The same instance (when it survived) and a fresh function both still answer. */
async function stillAnswers(id: string, src: string) {
  const again = await rt.load(id, src, { limits: LIMITS });
  const other = await load(OK);
  const o = await other.fetch(req(), input());
  assert.ok(o.ok, "another function answers");
  assert.equal(await o.value.text(), "ok");
  return again;
}

async function expectFailure(src: string, kind: string, limits = LIMITS) {
  const id = `fn-${n++}`;
  const inst = await rt.load(id, src, { limits });
  const t0 = performance.now();
  const o = await inst.fetch(req(), input({ limits }));
  const ms = performance.now() - t0;
  assert.equal(o.ok, false, "the invocation fails");
  if (!o.ok) assert.equal(o.error.kind, kind, `kind: ${o.error.message}`);
  await stillAnswers(id, src);
  return { o, ms, id };
}

test("cpu: infinite loop inside async with .catch is stopped", async () => {
  const { ms } = await expectFailure(fetchBundle(`async () => { async function loop() { while (true) {} } await loop().catch(() => {}); return new Response("escaped"); }`), "cpu");
  assert.ok(ms < 3000, `stopped in ${ms} ms`);
});

test("cpu: microtask ping-pong loop is stopped", async () => {
  await expectFailure(fetchBundle(`async () => { for (;;) { await null; } }`), "cpu");
});

test("cpu: catastrophic regex is interrupted", async () => {
  await expectFailure(fetchBundle(`async () => new Response(String(/^(a+)+$/.test("a".repeat(40) + "b")))`), "cpu");
});

test("cpu: time is charged per invocation across timers", async () => {
  await expectFailure(fetchBundle(`async () => { for (let i = 0; i < 100; i++) { const t = Date.now(); while (Date.now() - t < 20) {} await new Promise((r) => setTimeout(r, 1)); } return new Response("no"); }`), "cpu");
});

test("wall: a never-settling host promise is ended", async () => {
  const inst = await load(fetchBundle(`async () => { await globalThis.__hangar.sql\`select 1\`; return new Response("no"); }`));
  let aborted = false;
  const host = { "sql.query": (_a: unknown[], info: { signal: AbortSignal }) => new Promise<unknown>(() => { info.signal.addEventListener("abort", () => { aborted = true; }); }) };
  const o = await inst.fetch(req(), input({ host }));
  assert.equal(o.ok, false);
  if (!o.ok) assert.equal(o.error.kind, "wall");
  assert.ok(o.stats.wallMs >= LIMITS.wallMs - 5);
  assert.ok(aborted, "the host call's signal was aborted");
  const o2 = await inst.fetch(req(), input({ host: { "sql.query": async () => [] } }));
  assert.ok(o2.ok, "the same instance answers afterwards");
});

test("wall: a never-settling guest promise is ended, and waitUntil is bounded", async () => {
  await expectFailure(fetchBundle(`async () => { await new Promise(() => {}); }`), "wall");
  const inst = await load(fetchBundle(`async (r, env, ctx) => { ctx.waitUntil(new Promise((res) => setTimeout(res, 60000))); return new Response("now"); }`));
  const o = await inst.fetch(req(), input());
  assert.ok(o.ok);
  assert.equal(await o.value.text(), "now");
});

/** A streamed body whose first `ok` pulls give a chunk each; the next runs `then` (an endless loop, an endless allocation). */
const streamed = (ok: number, then: string) => fetchBundle(`async (req) => {
  if (new URL(req.url).pathname === "/pulls") return new Response(String(globalThis.pulls));
  globalThis.pulls = 0;
  let n = 0;
  return new Response(new ReadableStream({ pull(c) { globalThis.pulls++; if (n++ < ${ok}) c.enqueue(new TextEncoder().encode("chunk" + n)); else { ${then} } } }));
}`);

test("streaming: the guest is pulled only as the reader reads, and limits end a streamed body (cpu, memory)", async () => {
  const limits = { ...LIMITS, cpuMs: 2000, wallMs: 30_000 };
  const inst = await load(streamed(400, "for (;;) {}"), limits);
  const pulls = async () => {
    const p = await inst.fetch(req("/pulls"), input({ limits }));
    assert.ok(p.ok);
    return Number(await p.value.text());
  };
  const o = await inst.fetch(req(), input({ limits }));
  assert.ok(o.ok, JSON.stringify(!o.ok && o.error));
  const reader = o.value.body!.getReader();
  const dec = new TextDecoder();
  // an ask takes 1 chunk first, then twice as many as the last, up to PULL_CHUNKS; the host asks ahead of the
  // reader by at most the thread's credit window and one more (and the guest stream's own queue of one)
  const asked = (asks: number) => { let n = 1; for (let i = 0; i < asks; i++) n += Math.min(2 ** i, PULL_CHUNKS); return n; };
  const ahead = STREAM_WINDOW + 1;
  // the first chunk goes out alone
  assert.equal(dec.decode((await reader.read()).value), "chunk1");
  const first = await pulls();
  assert.ok(first <= asked(1 + ahead), `${first} pulls after one read`);
  let text = "";
  let reads = 1;
  while (!text.includes("chunk9")) { text += dec.decode((await reader.read()).value); reads++; }
  assert.ok(text.startsWith("chunk2chunk3"), text);
  assert.ok(reads < 9, `chunks ready together arrive together: ${reads} reads for 9 chunks`);
  const later = await pulls();
  assert.ok(later <= asked(reads + ahead) && later < 400, `${later} pulls after ${reads} reads`);
  // the 401st pull loops: the CPU limit ends the invocation and errors the body the client is reading
  await assert.rejects(async () => { for (;;) if ((await reader.read()).done) break; }, /CPU time limit of 2000 ms exceeded/);

  const mem = await load(streamed(1, "const a = []; for (;;) a.push(new ArrayBuffer(1 << 20));"), MEMORY_ONLY);
  const m = await mem.fetch(req(), input({ limits: MEMORY_ONLY }));
  assert.ok(m.ok);
  const r2 = m.value.body!.getReader();
  await assert.rejects(async () => { for (;;) if ((await r2.read()).done) break; }, /memory limit of 64 MiB exceeded/);
});

test("memory: loop of 1 MiB strings", async () => {
  const { o } = await expectFailure(fetchBundle(`async () => { const a = []; for (;;) a.push("x".repeat(1 << 20) + a.length); }`), "memory", MEMORY_ONLY);
  assert.ok(o.stats.memoryBytes <= 64 * 1024 * 1024 + 65536 * 32, `heap ${o.stats.memoryBytes}`);
});

test("memory: loop of 1 MiB strings that catches out-of-memory", async () => {
  await expectFailure(fetchBundle(`async () => { const a = []; for (;;) { try { a.push("y".repeat(1 << 20) + a.length); } catch {} } }`), "memory", MEMORY_ONLY);
});

test("memory: loop of ArrayBuffers", async () => {
  await expectFailure(fetchBundle(`async () => { const a = []; for (;;) a.push(new ArrayBuffer(1 << 20)); }`), "memory", MEMORY_ONLY);
});

test("memory: one huge allocation", async () => {
  await expectFailure(fetchBundle(`async () => { const b = new Uint8Array(200 * 1024 * 1024); return new Response(String(b.length)); }`), "memory");
});

test("stack: deep recursion maps to stack", async () => {
  await expectFailure(fetchBundle(`async () => { function f(n) { return f(n + 1) + 1; } f(0); }`), "stack");
});

test("stack: deep recursion through native frames (JSON.parse, Array.map)", async () => {
  const inst = await load(fetchBundle(`async () => { try { JSON.parse("[".repeat(200000)); } catch (e) { return new Response(e.name); } return new Response("parsed?"); }`));
  const o = await inst.fetch(req(), input());
  if (o.ok) assert.match(await o.value.text(), /Error/);
  else assert.equal(o.error.kind, "stack");
  const inst2 = await load(fetchBundle(`async () => { function g(n) { return [1].map(() => g(n + 1)); } g(0); }`));
  const o2 = await inst2.fetch(req(), input());
  assert.equal(o2.ok, false);
  if (!o2.ok) assert.equal(o2.error.kind, "stack");
  await stillAnswers("unused-" + n++, OK);
});

test("subrequests: fetch past the limit rejects with a clear error", async () => {
  const inst = await load(fetchBundle(`async () => { const out = []; for (let i = 0; i < 7; i++) { try { await fetch("https://example.com/" + i); out.push("ok"); } catch (e) { out.push(e.code + ": " + e.message); } } return Response.json(out); }`));
  const host = { fetch: async () => ({ status: 200, statusText: "OK", headers: [], body: new Uint8Array(0), url: "https://example.com/", redirected: false }) };
  const o = await inst.fetch(req(), input({ host }));
  assert.ok(o.ok);
  const out = await o.value.json() as string[];
  assert.deepEqual(out.slice(0, 5), ["ok", "ok", "ok", "ok", "ok"]);
  assert.match(out[5], /^SUBREQUEST_LIMIT: .*subrequest limit of 5/);
});

test("bundle evaluation: a throw rejects load with BundleEvalError, nothing cached", async () => {
  const id = `fn-${n++}`;
  await assert.rejects(rt.load(id, `(() => { function boom() { throw new TypeError("bad top level"); } boom(); })()`, { limits: LIMITS }), (e: unknown) => {
    assert.ok(e instanceof BundleEvalError);
    assert.match(e.message, /TypeError: bad top level/);
    assert.match(e.stack ?? "", /boom/);
    return true;
  });
  assert.equal(rt.get(id), undefined);
});

test("bundle evaluation: an infinite loop at top level is stopped", async () => {
  const id = `fn-${n++}`;
  await assert.rejects(rt.load(id, `for (;;) {}`, { limits: LIMITS }), (e: unknown) => e instanceof BundleEvalError && e.kind === "cpu");
  assert.equal(rt.get(id), undefined);
});

test("a syntax error in the bundle rejects load", async () => {
  await assert.rejects(rt.load(`fn-${n++}`, `let x = ;`, { limits: LIMITS }), BundleEvalError);
});
