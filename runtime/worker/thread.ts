// A sandbox thread: holds function instances (QuickJS modules) and runs their
// invocations; host functions are called on the main thread by message. See
// protocol.ts for the contract.
import { readlinkSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { Instance, type ResponseData } from "../instance.ts";
import { useCompiledModule } from "../engine.ts";
import { InstanceFactory } from "../snapshot/factory.ts";
import type { HostFunctions, HostReply, InvocationEnd, InvocationInput, Outcome } from "../types.ts";
import { CreditedStream } from "./credited.ts";
import { IdMap } from "../id-map.ts";
import {
  CLAIMED, STREAM_WINDOW, WATCH_DEADLINE, claimSlot, WATCH_INTERRUPT_I32, WATCH_INV, WATCH_KIND, WATCH_START, WATCH_TID,
  packFromThread, unpackToThread, type ErrorData, type FromThread, type InvokeInputData, type PackedToThread, type ThreadData, type ToThread,
} from "./protocol.ts";

/** An instance that has grown past this share of its limit is dropped once idle (WASM memory never shrinks). */
const RECYCLE_RATIO = 0.75;

const port = parentPort!;
const data = workerData as ThreadData;
useCompiledModule(data.wasm, data.layout);
Instance.preludeSource = data.prelude;
const cells = new Float64Array(data.watch);
const flag = new Int32Array(data.watch);
const claims = new Int32Array(data.claims);
cells[WATCH_TID] = threadId();
Instance.watch = {
  begin(deadline, tag, kind) {
    Atomics.store(flag, WATCH_INTERRUPT_I32, 0);
    cells[WATCH_INV] = tag;
    cells[WATCH_KIND] = kind === "cpu" ? 1 : 2;
    cells[WATCH_START] = performance.timeOrigin + performance.now();
    cells[WATCH_DEADLINE] = deadline;
  },
  end() { cells[WATCH_DEADLINE] = 0; },
  interrupted: () => Atomics.load(flag, WATCH_INTERRUPT_I32) === 1,
};

/** This thread's Linux thread id, for the watchdog's CPU-time reading; 0 elsewhere. */
function threadId(): number {
  try {
    return Number(readlinkSync("/proc/thread-self").split("/").pop()) || 0;
  } catch {
    return 0;
  }
}

const post = (m: FromThread, transfer?: ArrayBuffer[]) => port.postMessage(packFromThread(m), transfer ?? []);

// version snapshots are kept by the pool (one copy per process), not here
const factory = new InstanceFactory({ snapshots: data.snapshots, cacheBytes: 0 });
const instances = new Map<number, Instance>();
const active = new IdMap<number>(); // key -> invocations in flight (IdMaps for what churns per invocation: see id-map.ts)
let nextCall = 1;
const calls = new IdMap<(reply: HostReply) => void>();

/** Request bodies streaming in from the main thread, by invocation. */
const reqBodies = new Map<number, CreditedStream>();
interface ResBody { reader: ReadableStreamDefaultReader<Uint8Array>; credit: number; pumping: boolean; done: boolean }
const resBodies = new Map<number, ResBody>();

function errorData(e: unknown): ErrorData {
  const err = e as { message?: unknown; name?: unknown; stack?: unknown; kind?: unknown } | null;
  if (!err || typeof err !== "object") return { message: String(e) };
  return {
    message: String(err.message),
    name: typeof err.name === "string" ? err.name : undefined,
    stack: typeof err.stack === "string" ? err.stack : undefined,
    kind: typeof err.kind === "string" ? err.kind : undefined,
  };
}

/** Loads under way, by key: work for an instance still being made waits for it. */
const loading = new Map<number, Promise<void>>();

/**
 * Snapshots frozen at load and not made yet, by instance key. Making one (the
 * diff of the frozen copy) waits until the instance's first invocation is
 * answered, or SNAPSHOT_AFTER_MS, or its unload: a deploy's first request does
 * not wait behind it.
 */
const unmade = new Map<number, { make: () => Uint8Array; timer: ReturnType<typeof setTimeout> }>();
const SNAPSHOT_AFTER_MS = 200;

function makeSnapshot(key: number): void {
  const u = unmade.get(key);
  if (!u) return;
  unmade.delete(key);
  clearTimeout(u.timer);
  let made: Uint8Array | undefined;
  try { made = u.make(); } catch { /* none kept: the next cold start evaluates */ }
  post({ t: "snapshot", key, snapshot: made }); // shared memory: no copy
}

async function unload(key: number): Promise<void> {
  const pending = loading.get(key);
  if (pending) await pending;
  makeSnapshot(key);
  const inst = instances.get(key);
  instances.delete(key);
  await inst?.close();
}

async function load(m: Extract<ToThread, { t: "load" }>): Promise<void> {
  try {
    const { inst, snapshot } = await factory.loadFrom(m.id, m.bundle, {
      filename: m.filename,
      limits: m.limits,
      env: m.env,
      onConsole: (level, message) => post({ t: "console", inv: -1, key: m.key, level, message }),
    }, m.snapshot);
    inst.onDead = () => {
      if (instances.get(m.key) !== inst) return;
      instances.delete(m.key);
      post({ t: "dead", key: m.key });
    };
    instances.set(m.key, inst);
    // answered first: the instance is frozen for its snapshot (before anything else runs here) while the caller goes on
    post({ t: "loaded", key: m.key, handlers: [...inst.handlers], config: inst.config, memoryBytes: inst.memoryBytes(), snapshotFollows: !!snapshot });
    if (snapshot) {
      // one frozen copy at a time (the thread's kept buffer): one still waiting is made now, before this freeze
      for (const k of [...unmade.keys()]) makeSnapshot(k);
      let make: (() => Uint8Array) | undefined;
      try { make = snapshot(); } catch { /* none kept: the next cold start evaluates */ }
      if (!make) post({ t: "snapshot", key: m.key, snapshot: undefined });
      else unmade.set(m.key, { make, timer: setTimeout(() => makeSnapshot(m.key), SNAPSHOT_AFTER_MS) });
    }
  } catch (e) {
    post({ t: "loadFailed", key: m.key, error: errorData(e) });
  }
}

/** Response bodies from this size on are transferred to the main thread rather than copied. */
const TRANSFER_BYTES = 64 * 1024;

/** Invocations whose result went out before they ended (an "ended" message follows). */
const answered = new IdMap<true>();
/** Invocations that ended before their result went out (the result carries `ended`), with what their end said. */
const endedEarly = new IdMap<{ end?: InvocationEnd }>();

function result(inv: number, m: Extract<FromThread, { t: "result" }>, transfer?: ArrayBuffer[]): void {
  if (endedEarly.has(inv)) {
    m.ended = true;
    m.end = endedEarly.get(inv)!.end;
    endedEarly.delete(inv);
  } else answered.set(inv, true);
  post(m, transfer);
}

/** A call of host function `name` for invocation `inv`, answered by the main thread (ENOSYS there when it has none); both ways encoded. */
function forward(inv: number, name: string, json: string, buffers: Uint8Array[]): Promise<HostReply> {
  const call = nextCall++;
  return new Promise((resolve) => {
    calls.set(call, resolve);
    post({ t: "host", inv, call, name, json, buffers });
  });
}

const NO_HOST: HostFunctions = Object.freeze({}) as HostFunctions;

function inputFor(inv: number, key: number, d: InvokeInputData): InvocationInput {
  return {
    requestId: d.requestId,
    env: d.env,
    auth: d.auth,
    limits: d.limits,
    host: NO_HOST,
    forward: (name, json, buffers) => forward(inv, name, json, buffers),
    tag: inv,
    onConsole: d.console ? (level, message) => post({ t: "console", inv, key, level, message }) : undefined,
    onEnd: (end) => {
      // ended before its result went out (no waitUntil, no stream): the result says so, one message instead of two
      if (answered.delete(inv)) post({ t: "ended", inv, end });
      else endedEarly.set(inv, { end });
      const n = (active.get(key) ?? 1) - 1;
      if (n > 0) active.set(key, n);
      else {
        active.delete(key);
        recycle(key);
      }
    },
  };
}

/** Drop an idle instance that grew: its memory goes back now, not when the next one is made. */
function recycle(key: number): void {
  const inst = instances.get(key);
  if (!inst || inst.busy || inst.reservedBytes() <= inst.limitBytes * RECYCLE_RATIO) return;
  instances.delete(key);
  void inst.close();
  post({ t: "dead", key });
}

/** The request body of `inv` as a stream: chunks are asked of the main thread as the guest reads (the instance cancels it when the invocation ends). */
function requestBody(inv: number): ReadableStream<Uint8Array> {
  const body = new CreditedStream((n) => post({ t: "reqCredit", inv, n }), () => reqBodies.delete(inv));
  reqBodies.set(inv, body);
  return body.stream;
}

function onReqChunk(m: Extract<ToThread, { t: "reqChunk" }>): void {
  const b = reqBodies.get(m.inv);
  if (!b) return;
  if (!m.chunk) reqBodies.delete(m.inv);
  b.push(m.chunk, m.error !== undefined ? Object.assign(new Error(m.error), m.code ? { code: m.code } : {}) : undefined);
}

async function invoke(m: Extract<ToThread, { t: "invoke" }>): Promise<void> {
  // revoked while this thread was busy: the main thread started it elsewhere
  if (Atomics.compareExchange(claims, claimSlot(m.inv), m.inv, CLAIMED) !== m.inv) return;
  // sent right behind its instance's restore (the pool's replica took work at once): run after it
  const pending = loading.get(m.key);
  if (pending) await pending;
  const inst = instances.get(m.key);
  if (!inst) { post({ t: "requeue", inv: m.inv }); return; }
  active.set(m.key, (active.get(m.key) ?? 0) + 1);
  const input = inputFor(m.inv, m.key, m.input);
  let outcome: Outcome<unknown>;
  if (m.kind === "fetch") {
    const r = m.request;
    const body = r.bytes ?? (r.body ? requestBody(m.inv) : null);
    outcome = r.head !== undefined ? await inst.fetchHead(r.head, body, input) : await inst.fetchRaw({ url: r.url, method: r.method, headers: r.headers, body }, input);
  } else {
    outcome = await inst.dispatch(m.kind, m.payload, input);
  }
  if (!outcome.ok) {
    result(m.inv, { t: "result", inv: m.inv, ok: false, error: outcome.error, stats: outcome.stats });
    return;
  }
  if (m.kind !== "fetch") {
    result(m.inv, { t: "result", inv: m.inv, ok: true, value: outcome.value, stats: outcome.stats });
    return;
  }
  const res = outcome.value as ResponseData;
  // a body the guest answered with whole goes in the result message itself: no stream, no credit round trips;
  // text as its string, small bytes copied by the clone (cheaper than a transfer), large bytes moved
  const text = typeof res.body === "string" ? res.body : undefined;
  let bytes = res.body instanceof Uint8Array ? res.body : undefined;
  let transfer: ArrayBuffer[] | undefined;
  if (bytes && bytes.byteLength >= TRANSFER_BYTES) {
    if (!(bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer)) bytes = bytes.slice();
    transfer = [bytes.buffer as ArrayBuffer];
  }
  result(m.inv, {
    t: "result", inv: m.inv, ok: true,
    response: { status: res.status, statusText: res.statusText, headers: res.headers, body: res.stream !== undefined, bytes, text },
    stats: outcome.stats,
  }, transfer);
  if (res.stream) {
    resBodies.set(m.inv, { reader: res.stream.getReader(), credit: STREAM_WINDOW, pumping: false, done: false });
    void pump(m.inv);
  }
}

/** Send response-body chunks while the main thread has credit for them. */
async function pump(inv: number): Promise<void> {
  const b = resBodies.get(inv);
  if (!b || b.pumping || b.done) return;
  b.pumping = true;
  try {
    while (b.credit > 0 && !b.done) {
      const r = await b.reader.read();
      if (b.done) return;
      if (r.done) {
        b.done = true;
        resBodies.delete(inv);
        post({ t: "resChunk", inv, chunk: null });
        return;
      }
      b.credit--;
      const chunk = r.value instanceof Uint8Array ? r.value : new Uint8Array(r.value as ArrayBufferLike);
      const own = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && !(chunk.buffer instanceof SharedArrayBuffer);
      const copy = own ? chunk : chunk.slice();
      post({ t: "resChunk", inv, chunk: copy }, [copy.buffer as ArrayBuffer]);
    }
  } catch (e) {
    b.done = true;
    resBodies.delete(inv);
    post({ t: "resChunk", inv, chunk: null, error: (e as Error)?.message ?? String(e) });
  } finally {
    b.pumping = false;
  }
}

function hostReply(m: Extract<ToThread, { t: "hostReply" }>): void {
  const resolve = calls.get(m.call);
  if (!resolve) return;
  calls.delete(m.call);
  resolve({ ok: m.ok, json: m.json, buffers: m.buffers });
}

async function close(): Promise<void> {
  for (const u of unmade.values()) clearTimeout(u.timer);
  unmade.clear();
  await factory.close();
  const all = [...instances.values()];
  instances.clear();
  await Promise.all(all.map((i) => i.close()));
  port.close();
}

port.on("message", (packed: ToThread | PackedToThread) => {
  const m = unpackToThread(packed);
  switch (m.t) {
    case "load": {
      const done = load(m).finally(() => loading.delete(m.key));
      loading.set(m.key, done);
      break;
    }
    case "unload": void unload(m.key); break;
    case "invoke": void invoke(m).finally(() => { if (unmade.has(m.key)) setImmediate(() => makeSnapshot(m.key)); }); break;
    case "hostReply": hostReply(m); break;
    case "reqChunk": onReqChunk(m); break;
    case "credit": {
      const b = resBodies.get(m.inv);
      if (b) { b.credit += m.n; void pump(m.inv); }
      break;
    }
    case "cancel": {
      const b = resBodies.get(m.inv);
      if (b) { b.done = true; resBodies.delete(m.inv); void b.reader.cancel().catch(() => {}); }
      break;
    }
    case "close": void close(); break;
  }
});
/**
 * Run one invocation of each kind through a throwaway instance, then restore
 * it from its snapshot and run one more: a fresh thread's first real call, and
 * its first cold start from a snapshot, are then not its slowest.
 */
async function warmUp(): Promise<void> {
  const limits = { cpuMs: 10_000, wallMs: 10_000, memoryMb: 128, subrequests: 0 };
  const opts = { limits };
  const input: InvocationInput = { requestId: "warm-up", env: {}, auth: null, limits, host: {} };
  const fetchOnce = async (inst: Instance) => {
    const o = await inst.fetchData({ url: "http://localhost/", method: "POST", headers: [["content-type", "text/plain"]], body: new Uint8Array([104, 105]) }, input);
    if (o.ok) await (o.value as Response).arrayBuffer();
  };
  const { inst, snapshot } = await factory.loadFrom("warm-up", WARM_BUNDLE, opts);
  const made = snapshot?.()?.();
  await fetchOnce(inst);
  await inst.dispatch("event", { a: 1 }, input);
  await inst.close();
  if (!made) return;
  const restored = (await factory.loadFrom("warm-up", WARM_BUNDLE, opts, made)).inst;
  await fetchOnce(restored);
  await restored.close();
}

const WARM_BUNDLE = `globalThis.__hangar_exports = { default: {
  async fetch(req) { const t = await req.text(); const u = new URL(req.url); return Response.json({ t, p: u.pathname, h: [...req.headers] }, { headers: { "x-a": "b" } }); },
  async event(p) { return { ...p, at: new Date().toISOString() }; },
} };`;

void warmUp().catch(() => {}).finally(() => post({ t: "ready" }));
