// The main-thread side of the sandbox: a pool of worker threads holding
// function instances, behind the same Runtime / FunctionInstance interfaces as
// the in-process runtime. Host functions run here, on the main thread; a
// watchdog here stops a thread whose guest overran its deadline and would not
// stop (a long native call), failing only the invocations on that thread.
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import { availableParallelism } from "node:os";
import type {
  ConsoleLevel, EventKind, FailureKind, FunctionInstance, GuestFailure, HostReply, IncomingRequest, InvocationEnd, InvocationInput, InvocationStats, Limits, Outcome,
} from "../types.ts";
import { decode } from "../contract.js";
import { callInfo, errorInfo, hostReply, WIRE } from "../host-reply.ts";
import { fetchHead } from "../fetch-head.ts";
import { textBody } from "../text-body.ts";
import { BundleEvalError, INVOCATION_ENDED, RuntimeClosedError } from "../errors.ts";
import { compiledModule, engineLayout } from "../engine.ts";
import { SnapshotCache, snapshotKey, type SnapshotMeta } from "../snapshot/cache.ts";
import { preludeSource } from "../prelude.ts";
import type { LoadOptions, Runtime } from "../index.ts";
import { singleFlight } from "../single-flight.ts";
import { WHOLE_BODY_BYTES } from "../request-body.ts";
import { CreditedStream } from "./credited.ts";
import { IdMap } from "../id-map.ts";
import {
  CLAIM_SLOTS, STREAM_WINDOW, WATCH_BYTES, WATCH_DEADLINE, WATCH_INTERRUPT_I32, WATCH_INV, WATCH_KIND, WATCH_START, WATCH_TID,
  claimSlot, packToThread, unpackFromThread, type FromThread, type PackedFromThread, type RequestData, type ResponseHead, type ThreadData, type ToThread,
} from "./protocol.ts";

/** Past its segment's deadline by this much, a guest is interrupted from here. */
const INTERRUPT_GRACE_MS = 50;
/** Past its deadline by this much, a guest that did not stop has its thread terminated. */
const KILL_GRACE_MS = 250;
/** Past its deadline by this much wall time, a thread is terminated even if its CPU time cannot be seen growing. */
const KILL_MAX_WALL_MS = 10_000;
/** Linux reports thread CPU time in USER_HZ ticks, 100 per second on every architecture Node runs on. */
const CLOCK_TICKS = 100;
const WATCH_TICK_MS = 25;
/** A job whose instance died before it began is started again at most this often. */
const MAX_RESTARTS = 2;
/** A function whose every replica has this many invocations in flight gets one more (on another thread). */
const GROW_AT = 2;
/** A thread whose current run segment is older than this is stalled: new work goes elsewhere when it can. */
const STALL_MS = 20;
/** An answer this late past the wall limit means the thread is lost: it is replaced. */
const WALL_GUARD_MS = 2000;
/**
 * What a new instance needs from the budget before it reports its own figure:
 * about what a prepared instance holds (static data, the stack it can touch,
 * the prelude's heap; about 1.8 MiB), not the memory it may grow to.
 */
const MIN_INSTANCE_BYTES = 2 * 1024 * 1024;
/** How long a parked instance waits for the load that takes it (a deploy's pre-warm comes within milliseconds). */
const PARK_MS = 10_000;

export interface PoolOptions {
  /** Sandbox threads; default: available cores. */
  threads?: number;
  /** Total instance memory before idle instances are evicted and new ones refused, MiB; default 1024. */
  memoryBudgetMb?: number;
  /** Restore instances from memory snapshots (default true). */
  snapshots?: boolean;
}

/** No instance can be made without going over the memory budget (every instance is busy). */
export class MemoryBudgetError extends Error {
  readonly code = "MEMORY_BUDGET";
  constructor(budgetMb: number) {
    super(`the sandbox memory budget of ${budgetMb} MiB is in use by running invocations; retry shortly`);
    this.name = "MemoryBudgetError";
  }
}

const ZERO: InvocationStats = { cpuMs: 0, wallMs: 0, memoryBytes: 0 };

/** One invocation as the function was asked for it, before any thread takes it. */
interface Job {
  kind: "fetch" | EventKind;
  request?: RequestData;
  /** The request body, not yet read: read only when the thread that took the invocation asks for it. */
  reader?: ReadableStreamDefaultReader<Uint8Array>;
  payload?: unknown;
  input: InvocationInput;
  resolve: (o: Outcome<unknown>) => void;
  /** Times it was started again because its instance died first. */
  restarts: number;
}

interface Pending {
  id: number;
  job: Job;
  thread: Thread;
  replica: Replica;
  input: InvocationInput;
  limits: Limits;
  started: number;
  resolve: (o: Outcome<unknown>) => void;
  answered: boolean;
  ended: boolean;
  controller?: AbortController;
  guard: ReturnType<typeof setTimeout>;
  req?: ReadableStreamDefaultReader<Uint8Array>;
  res?: CreditedStream;
}

interface Replica {
  key: number;
  thread: Thread;
  proxy: FunctionProxy;
  inflight: number;
  memoryBytes: number;
  alive: boolean;
}

let threadCode: string | undefined;

/**
 * The sandbox thread's code, bundled once per process into one script: a
 * thread then starts without a TypeScript loader (several times faster).
 */
function threadSource(): string {
  const entry = new URL("./thread.ts", import.meta.url);
  threadCode ??= buildSync({
    entryPoints: [fileURLToPath(entry)],
    bundle: true, write: false, format: "cjs", platform: "node", target: "node20", logLevel: "error",
    // dependencies resolve their files from here (import.meta does not exist in a script)
    define: { "import.meta.url": JSON.stringify(entry.href) },
  }).outputFiles[0].text;
  return threadCode;
}

function oneChunk(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({ start(c) { c.enqueue(bytes); c.close(); } });
}

let nextKey = 1;
let nextInv = 1;

function limitMessage(kind: FailureKind, limits: Limits): string {
  return kind === "cpu" ? `CPU time limit of ${limits.cpuMs} ms exceeded` : `wall-clock limit of ${limits.wallMs} ms exceeded`;
}

/** One sandbox thread and what runs on it. */
class Thread {
  readonly worker: Worker;
  private cells: Float64Array;
  private flag: Int32Array;
  private claims: Int32Array;
  readonly invs = new IdMap<Pending>(); // see id-map.ts: a Map here promoted every request
  readonly replicas = new Map<number, Replica>();
  readonly loads = new Map<number, { resolve: (m: Extract<FromThread, { t: "loaded" }>) => void; reject: (e: Error) => void; onConsole?: LoadOptions["onConsole"]; limits: Limits }>();
  /** Loads whose snapshot is still being captured (it follows their "loaded"), by load key. */
  readonly snapshotWaits = new Map<number, (snapshot?: Uint8Array) => void>();
  dead = false;
  private interrupted = false;
  private cpuAtInterrupt: number | undefined;

  constructor(private pool: SandboxPool, data: Omit<ThreadData, "watch" | "claims">) {
    const watch = new SharedArrayBuffer(WATCH_BYTES);
    this.cells = new Float64Array(watch);
    this.flag = new Int32Array(watch);
    const claims = new SharedArrayBuffer(CLAIM_SLOTS * 4);
    this.claims = new Int32Array(claims);
    this.worker = new Worker(threadSource(), { eval: true, workerData: { ...data, watch, claims } satisfies ThreadData });
    this.worker.on("message", (m: FromThread | PackedFromThread) => this.onMessage(unpackFromThread(m)));
    this.worker.on("error", (err) => this.stop({ kind: "restarted", message: `the sandbox thread failed: ${err.message}` }));
    this.worker.on("exit", () => this.stop({ kind: "restarted", message: "the sandbox thread exited" }));
  }

  send(m: ToThread, transfer?: ArrayBuffer[]): void {
    if (!this.dead) this.worker.postMessage(packToThread(m), transfer ?? []);
  }

  get load(): number { return this.invs.size * 4 + this.replicas.size + (this.stalled() ? 1000 : 0); }

  /** The function whose segment is running now, if one runs. */
  runningFunction(): FunctionProxy | undefined {
    if (this.cells[WATCH_DEADLINE] === 0) return undefined;
    return this.invs.get(this.cells[WATCH_INV])?.replica.proxy;
  }

  /** A guest segment has held this thread for a while (a spinner, a long native call). */
  stalled(now = performance.timeOrigin + performance.now()): boolean {
    return this.cells[WATCH_DEADLINE] !== 0 && now - this.cells[WATCH_START] > STALL_MS;
  }

  /** Watchdog tick: interrupt, then terminate, a segment past its deadline. */
  check(now: number): void {
    const deadline = this.cells[WATCH_DEADLINE];
    if (this.dead || !deadline || now <= deadline + INTERRUPT_GRACE_MS) { this.interrupted = false; return; }
    if (!this.interrupted) {
      this.interrupted = true;
      this.cpuAtInterrupt = this.cpuMs();
      Atomics.store(this.flag, WATCH_INTERRUPT_I32, 1);
      return;
    }
    if (now <= deadline + KILL_GRACE_MS) return;
    // Grace is counted in the thread's own CPU time where it can be read: on a
    // loaded machine a thread the OS did not schedule has not ignored anything.
    const cpu = this.cpuMs();
    if (cpu !== undefined && this.cpuAtInterrupt !== undefined && cpu - this.cpuAtInterrupt < KILL_GRACE_MS - INTERRUPT_GRACE_MS
      && now <= deadline + KILL_MAX_WALL_MS) return;
    const tag = this.cells[WATCH_INV];
    const kind: FailureKind = this.cells[WATCH_KIND] === 2 ? "wall" : "cpu";
    this.stop({ kind: "restarted", message: "" }, { tag, kind });
  }

  /** CPU time this thread has used (Linux: /proc), in ms; undefined where it cannot be read. */
  private cpuMs(): number | undefined {
    const tid = this.cells[WATCH_TID];
    if (!tid) return undefined;
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "latin1");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return (Number(f[11]) + Number(f[12])) * (1000 / CLOCK_TICKS);
    } catch {
      return undefined;
    }
  }

  /** The thread is gone or must go: fail what ran on it, terminate it, let the pool replace it. */
  stop(failure: GuestFailure, offender?: { tag: number; kind: FailureKind }): void {
    if (this.dead) return;
    this.dead = true;
    void this.worker.terminate();
    const others = failure.message
      || `the sandbox thread running this invocation was stopped because ${offender?.tag === -1 ? "loading a function" : "another invocation"} on it overran its ${offender?.kind === "wall" ? "wall-clock" : "CPU"} limit; retry`;
    for (const inv of [...this.invs.values()]) {
      const mine = offender && inv.id === offender.tag;
      this.fail(inv, mine ? { kind: offender.kind, message: limitMessage(offender.kind, inv.limits) } : { kind: failure.kind, message: others });
    }
    for (const [, l] of this.loads) {
      const kind = offender?.tag === -1 ? offender.kind : "threw";
      l.reject(new BundleEvalError(offender?.tag === -1 ? `evaluating the bundle stopped: ${limitMessage(kind, l.limits)}` : `evaluating the bundle stopped: ${others}`, { kind }));
    }
    this.loads.clear();
    for (const done of this.snapshotWaits.values()) done();
    this.snapshotWaits.clear();
    for (const r of this.replicas.values()) r.proxy.drop(r);
    this.replicas.clear();
    this.pool.replace(this);
  }

  private fail(inv: Pending, error: GuestFailure): void {
    if (!inv.answered) {
      inv.answered = true;
      inv.resolve({ ok: false, error, stats: { cpuMs: 0, wallMs: performance.now() - inv.started, memoryBytes: inv.replica.memoryBytes } });
    }
    inv.res?.push(null, new Error(error.message));
    inv.res = undefined;
    this.finish(inv);
  }

  private finish(inv: Pending, end?: InvocationEnd): void {
    if (inv.ended) return;
    inv.ended = true;
    clearTimeout(inv.guard);
    inv.controller?.abort(INVOCATION_ENDED);
    void inv.req?.cancel().catch(() => {});
    if (!inv.res && inv.answered) this.invs.delete(inv.id);
    inv.replica.inflight--;
    try { inv.input.onEnd?.(end); } catch { /* the owner's hook must not break the pool */ }
    this.pool.idle();
  }

  private onMessage(m: FromThread): void {
    switch (m.t) {
      case "ready": return;
      case "loaded": this.loads.get(m.key)?.resolve(m); this.loads.delete(m.key); return;
      case "snapshot": this.snapshotWaits.get(m.key)?.(m.snapshot); this.snapshotWaits.delete(m.key); return;
      case "loadFailed": {
        const l = this.loads.get(m.key);
        this.loads.delete(m.key);
        const e = m.error.name === "BundleEvalError" ? new BundleEvalError(m.error.message, { kind: m.error.kind }) : new Error(m.error.message);
        if (m.error.stack) e.stack = m.error.stack;
        l?.reject(e);
        return;
      }
      case "dead": {
        const r = this.replicas.get(m.key);
        if (r) { this.replicas.delete(m.key); r.proxy.drop(r); }
        return;
      }
      case "requeue": {
        const inv = this.invs.get(m.inv);
        if (!inv || inv.answered || inv.ended) return;
        clearTimeout(inv.guard);
        this.invs.delete(inv.id);
        inv.replica.inflight--;
        inv.req = undefined;
        void inv.replica.proxy.restart(inv.job);
        return;
      }
      case "memory": { const r = this.replicas.get(m.key); if (r) r.memoryBytes = m.bytes; return; }
      case "console": {
        const sink = m.inv === -1 ? this.loads.get(m.key)?.onConsole : this.invs.get(m.inv)?.input.onConsole;
        try { sink?.(m.level as ConsoleLevel, m.message); } catch { /* a logging sink must not break the pool */ }
        return;
      }
      case "host": void this.hostCall(m); return;
      case "result": this.onResult(m); return;
      case "ended": { const inv = this.invs.get(m.inv); if (inv) this.finish(inv, m.end); return; }
      case "resChunk": this.onResChunk(m); return;
      case "reqCredit": void this.sendBody(m.inv, m.n); return;
    }
  }

  private async hostCall(m: Extract<FromThread, { t: "host" }>): Promise<void> {
    const inv = this.invs.get(m.inv);
    let reply: HostReply;
    try {
      if (!inv || inv.ended) throw new Error("the invocation has ended");
      const fn = Object.hasOwn(inv.input.host, m.name) ? inv.input.host[m.name] : undefined;
      if (!fn) throw Object.assign(new Error(`host function "${m.name}" is not available`), { code: "ENOSYS" });
      reply = hostReply(true, await fn(decode(m.json, m.buffers, WIRE) as unknown[], callInfo(inv.input.requestId, inv)));
    } catch (e) {
      reply = hostReply(false, errorInfo(e));
    }
    this.send({ t: "hostReply", call: m.call, ok: reply.ok, json: reply.json, buffers: reply.buffers });
  }

  private onResult(m: Extract<FromThread, { t: "result" }>): void {
    const inv = this.invs.get(m.inv);
    if (!inv || inv.answered) return;
    inv.answered = true;
    if (inv.ended && !(m.ok && m.response?.body)) this.invs.delete(inv.id);
    inv.replica.memoryBytes = m.stats.memoryBytes || inv.replica.memoryBytes;
    if (!m.ok) inv.resolve({ ok: false, error: m.error, stats: m.stats });
    else if (!m.response) inv.resolve({ ok: true, value: m.value ?? null, stats: m.stats });
    else {
      let res: Response | null = null;
      try { res = this.response(inv, m.response); } catch (e) {
        inv.resolve({ ok: false, error: { kind: "bad-response", message: `invalid response: ${(e as Error).message}` }, stats: m.stats });
      }
      if (res) inv.resolve({ ok: true, value: res, stats: m.stats });
    }
    if (m.ended) this.finish(inv, m.end);
  }

  private response(inv: Pending, head: ResponseHead): Response {
    const headers = new Headers();
    for (const [k, v] of head.headers) headers.append(k, v);
    let body: ReadableStream<Uint8Array> | null = null;
    if (head.body) {
      // the thread starts with a window's credit
      inv.res = new CreditedStream((n) => this.send({ t: "credit", inv: inv.id, n }), () => {
        inv.res = undefined;
        this.send({ t: "cancel", inv: inv.id });
        if (inv.ended) this.invs.delete(inv.id);
      }, STREAM_WINDOW);
      body = inv.res.stream;
    }
    const init = head.statusText ? { status: head.status, statusText: head.statusText, headers } : { status: head.status, headers };
    const whole = head.bytes as Uint8Array<ArrayBuffer> | undefined ?? (head.text !== undefined ? textBody(head.text, head.headers) : null);
    try {
      return new Response(body ?? whole, init);
    } catch {
      return new Response(body ?? whole, { status: head.status, headers });
    }
  }

  private onResChunk(m: Extract<FromThread, { t: "resChunk" }>): void {
    const inv = this.invs.get(m.inv);
    const s = inv?.res;
    if (!inv || !s) return;
    if (!m.chunk) {
      inv.res = undefined;
      if (inv.ended) this.invs.delete(inv.id);
    }
    s.push(m.chunk, m.error !== undefined ? new Error(m.error) : undefined);
  }

  private async sendBody(invId: number, n: number): Promise<void> {
    const inv = this.invs.get(invId);
    const reader = inv?.req;
    if (!inv || !reader) return;
    try {
      for (let i = 0; i < n; i++) {
        const r = await reader.read();
        if (r.done) { inv.req = undefined; this.send({ t: "reqChunk", inv: invId, chunk: null }); return; }
        const chunk = new Uint8Array(r.value);
        this.send({ t: "reqChunk", inv: invId, chunk }, [chunk.buffer]);
      }
    } catch (e) {
      inv.req = undefined;
      const code = (e as { code?: unknown })?.code;
      this.send({ t: "reqChunk", inv: invId, chunk: null, error: (e as Error)?.message ?? String(e), code: typeof code === "string" ? code : undefined });
    }
  }

  /** Offer an invocation of `replica` to this thread (see claimSlot in protocol.ts). */
  start(replica: Replica, job: Job): void {
    const limits = job.input.limits;
    const id = nextInv;
    nextInv = nextInv >= 0x7fffffff ? 1 : nextInv + 1;
    const inv: Pending = {
      id, thread: this, replica, job, input: job.input, limits, started: performance.now(), resolve: job.resolve, answered: false, ended: false,
      guard: setTimeout(() => this.onGuard(inv), limits.wallMs + WALL_GUARD_MS),
    };
    replica.inflight++;
    this.invs.set(id, inv);
    const slot = claimSlot(id);
    const older = Atomics.load(this.claims, slot);
    // an older offer still waiting in this slot (thousands queued on one thread): it moves first
    if (older > 0) { const o = this.invs.get(older); if (o) this.revoke(o); }
    Atomics.store(this.claims, slot, id);
    const input = job.input;
    const data = {
      requestId: input.requestId, env: input.env, auth: input.auth, limits, console: input.onConsole !== undefined,
    };
    if (job.kind === "fetch") {
      inv.req = job.reader;
      this.send({ t: "invoke", inv: id, key: replica.key, kind: "fetch", request: job.request!, input: data });
    } else {
      try {
        this.send({ t: "invoke", inv: id, key: replica.key, kind: job.kind, payload: job.payload, input: data });
      } catch (e) {
        Atomics.store(this.claims, slot, 0);
        this.fail(inv, { kind: "threw", message: `payload is not JSON-like: ${(e as Error).message}` });
      }
    }
    this.pool.busy();
  }

  /**
   * An invocation not over well past its wall limit: the thread is lost,
   * unless a guest's run segment holds it within that segment's own deadline
   * (its timers fire when the segment ends; check() handles a segment that
   * overruns).
   */
  private onGuard(inv: Pending): void {
    if (inv.ended || this.dead) return;
    if (this.cells[WATCH_DEADLINE] !== 0) {
      inv.guard = setTimeout(() => this.onGuard(inv), WALL_GUARD_MS / 4);
      return;
    }
    this.stop({ kind: "restarted", message: "" }, { tag: inv.id, kind: "wall" });
  }

  /**
   * This thread is stalled by a guest: invocations offered to it and not yet
   * taken, of functions that can run elsewhere, are started elsewhere.
   */
  rehome(): void {
    for (const inv of [...this.invs.values()]) {
      if (!inv.answered && !inv.ended && inv.replica.proxy.canLeave(this)) this.revoke(inv);
    }
  }

  /** Take back an offered invocation the thread has not taken; start it again through its function. */
  private revoke(inv: Pending): void {
    const slot = claimSlot(inv.id);
    if (Atomics.compareExchange(this.claims, slot, inv.id, 0) !== inv.id) return; // taken (or never offered)
    clearTimeout(inv.guard);
    this.invs.delete(inv.id);
    inv.replica.inflight--;
    inv.req = undefined;
    void inv.replica.proxy.schedule(inv.job);
  }
}

/** One function version: one or more replicas (instances on different threads). */
class FunctionProxy implements FunctionInstance {
  readonly handlers = new Set<"fetch" | EventKind>();
  config: unknown = undefined;
  replicas: Replica[] = [];
  private growing: Promise<Replica> | null = null;
  dead = false;
  /** Closed by its owner (evicted, retired, runtime closing), not by its instances dying. */
  private closed = false;

  /** Whether an invocation was ever scheduled here: only an instance that ran none may stand in for a restore. */
  used = false;

  constructor(public id: string, private pool: SandboxPool, private bundle: string, private opts: LoadOptions) {}

  /** The snapshot key of what this proxy holds (bundle, memory class, env). */
  snapshotKey(): string {
    return snapshotKey(this.id, this.bundle, this.opts);
  }

  /** Serve as `id` from now on, with `opts` for replicas made later (a parked instance taken by a load of the same key). */
  adopt(id: string, opts: LoadOptions): void {
    this.id = id;
    this.opts = opts;
  }

  get busy(): boolean { return this.replicas.some((r) => r.inflight > 0); }

  memoryBytes(): number {
    let n = 0;
    for (const r of this.replicas) n += r.memoryBytes;
    return n;
  }

  /** One replica creation at a time; concurrent callers share it. */
  private growOnce(exclude: Set<Thread>): Promise<Replica> {
    this.growing ??= this.grow(exclude).finally(() => {
      this.growing = null;
      if (!this.replicas.length && !this.dead) { this.dead = true; this.pool.forget(this); }
    });
    return this.growing;
  }

  /**
   * Make one more replica (the first on load). A restore of a snapshot whose
   * load was seen before reports what that load did: its replica takes work at
   * once, and the thread runs that work after the restore (in message order),
   * one round trip fewer on a cold start. Should the restore fail, the replica
   * is dropped and its work started again (the thread sends it back).
   */
  async grow(exclude: Set<Thread>): Promise<Replica> {
    const skey = this.pool.snapshots ? this.snapshotKey() : undefined;
    // a snapshot of this bundle still being captured is worth waiting for: restoring it beats evaluating again
    if (skey) await this.pool.capturing.get(skey);
    const thread = this.pool.pickThread(exclude);
    const key = nextKey++;
    const kept = skey ? this.pool.snapshots?.entry(skey) : undefined;
    const made = new Promise<Uint8Array | undefined>((resolve) => thread.snapshotWaits.set(key, resolve));
    const loading = new Promise<Extract<FromThread, { t: "loaded" }>>((resolve, reject) => {
      thread.loads.set(key, { resolve, reject, onConsole: this.replicas.length ? undefined : this.opts.onConsole, limits: this.opts.limits });
      thread.send({ t: "load", key, id: this.id, bundle: this.bundle, filename: this.opts.filename, limits: this.opts.limits, env: this.opts.env, snapshot: kept?.bytes });
      this.pool.spareAhead();
    });
    const settle = (loaded: Extract<FromThread, { t: "loaded" }>) => {
      if (!loaded.snapshotFollows || !skey) thread.snapshotWaits.delete(key);
      else this.pool.expectSnapshot(skey, made, { handlers: loaded.handlers, config: loaded.config, memoryBytes: loaded.memoryBytes });
    };
    if (skey && kept?.meta) {
      const replica = this.register(thread, key, kept.meta);
      loading.then((loaded) => {
        settle(loaded);
        replica.memoryBytes = loaded.memoryBytes;
      }, () => {
        thread.snapshotWaits.delete(key);
        // failed on a live thread (the snapshot refused, then the evaluation in its place failed): the snapshot
        // is not used again, so the next load evaluates and reports why; a thread that died proves nothing
        if (!thread.dead && this.pool.snapshots?.get(skey) === kept.bytes) this.pool.snapshots.delete(skey);
        if (!replica.alive) return;
        thread.replicas.delete(key);
        this.drop(replica);
      });
      return replica;
    }
    const loaded = await loading.catch((e: unknown) => {
      thread.snapshotWaits.delete(key);
      throw e;
    });
    settle(loaded);
    return this.register(thread, key, loaded);
  }

  /** A loaded (or loading) instance on `thread` becomes one of this function's replicas. */
  private register(thread: Thread, key: number, loaded: SnapshotMeta): Replica {
    const replica: Replica = { key, thread, proxy: this, inflight: 0, memoryBytes: loaded.memoryBytes, alive: true };
    if (thread.dead || this.dead) {
      thread.send({ t: "unload", key });
      throw new RuntimeClosedError("function instance");
    }
    for (const h of loaded.handlers) this.handlers.add(h);
    this.config = loaded.config;
    thread.replicas.set(key, replica);
    this.replicas.push(replica);
    return replica;
  }

  /**
   * The replica for the next invocation: the least busy on a thread that is
   * not stalled. Busy everywhere: one more replica on another thread, off the
   * request path, up to threads - 1 (one function never takes every thread).
   * Every replica's thread stalled by some guest: a replica on a free thread,
   * made now, so this function does not wait behind another's spin.
   */
  private async pick(): Promise<Replica | undefined> {
    let best: Replica | undefined;
    let free: Replica | undefined;
    for (const r of this.replicas) {
      if (!best || r.inflight < best.inflight) best = r;
      // a thread stalled by this very function is not a reason to spread it further
      if ((!r.thread.stalled() || r.thread.runningFunction() === this) && (!free || r.inflight < free.inflight)) free = r;
    }
    if (best && !free && this.replicas.length < this.pool.threadCount && this.pool.hasRoom()) {
      const have = new Set(this.replicas.map((r) => r.thread));
      if (this.pool.freeThread(have)) return this.growOnce(have).catch(() => best);
    }
    best = free ?? best;
    if (best && best.inflight >= GROW_AT && !this.growing && this.replicas.length < this.pool.threadCount - 1 && this.pool.hasRoom()) {
      this.growOnce(new Set(this.replicas.map((r) => r.thread))).catch(() => {});
    }
    return best;
  }

  /** A replica is gone (its thread stopped, or the instance was thrown away). */
  drop(r: Replica): void {
    r.alive = false;
    this.replicas = this.replicas.filter((x) => x !== r);
    if (!this.replicas.length && !this.growing) {
      this.dead = true;
      this.pool.forget(this);
    }
  }

  /** Start `job` on the replica pick() chooses. */
  async schedule(job: Job): Promise<void> {
    this.used = true;
    const r = this.dead ? undefined : await this.pick();
    if (!r || !r.alive) {
      void job.reader?.cancel().catch(() => {});
      job.resolve({ ok: false, error: { kind: "threw", message: "the function instance is closed" }, stats: ZERO });
      return;
    }
    r.thread.start(r, job);
  }

  /**
   * Start `job` again: its instance died before the job began. A function
   * whose every replica died gets a fresh instance (the job was accepted for
   * this version); one closed on purpose (evicted, retired) does not.
   */
  async restart(job: Job): Promise<void> {
    if (++job.restarts > MAX_RESTARTS || this.closed) {
      void job.reader?.cancel().catch(() => {});
      job.resolve({ ok: false, error: { kind: "threw", message: "the function instance is gone" }, stats: ZERO });
      return;
    }
    if (!this.dead) return this.schedule(job);
    try {
      const next = (await this.pool.load(this.id, this.bundle, this.opts)) as FunctionProxy;
      await next.schedule(job);
    } catch (e) {
      void job.reader?.cancel().catch(() => {});
      job.resolve({ ok: false, error: { kind: "threw", message: `the function instance is gone and could not be made again: ${(e as Error).message}` }, stats: ZERO });
    }
  }

  /** Whether work offered to `t` (stalled) can run elsewhere instead: not when this very function stalls it. */
  canLeave(t: Thread): boolean {
    if (this.dead || t.runningFunction() === this) return false;
    if (this.replicas.some((r) => r.thread !== t && !r.thread.dead && !r.thread.stalled())) return true;
    return this.replicas.length < this.pool.threadCount && this.pool.hasRoom() && this.pool.freeThread(new Set(this.replicas.map((r) => r.thread)));
  }

  fetch(request: Request | IncomingRequest, input: InvocationInput): Promise<Outcome<Response>> {
    return new Promise((resolve) => {
      let headers: [string, string][];
      if (request instanceof Request) {
        headers = [];
        request.headers.forEach((v, k) => { if (k !== "set-cookie") headers.push([k, v]); });
        for (const c of request.headers.getSetCookie()) headers.push(["set-cookie", c]);
      } else headers = request.headers;
      const given = request.method !== "GET" && request.method !== "HEAD" ? request.body : null;
      // a small whole body goes in the invoke message itself (copied: a revoked offer sends it again); others stream on request
      const inline = given instanceof Uint8Array && given.byteLength <= WHOLE_BODY_BYTES ? given : undefined; // inside the invoke message, one crossing as in process
      const body = inline ? null : given instanceof Uint8Array ? oneChunk(given) : given;
      const head = fetchHead({ url: request.url, method: request.method, headers, stream: body !== null }, input);
      const fields = head !== null ? { head } : { url: request.url, method: request.method, headers };
      void this.schedule({
        kind: "fetch", request: { ...fields, body: body !== null, bytes: inline?.byteLength ? inline : undefined },
        reader: body ? body.getReader() : undefined, input, resolve: resolve as Job["resolve"], restarts: 0,
      });
    });
  }

  dispatch(kind: EventKind, payload: unknown, input: InvocationInput): Promise<Outcome<unknown>> {
    return new Promise((resolve) => void this.schedule({ kind, payload, input, resolve, restarts: 0 }));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.dead && !this.replicas.length) return;
    this.dead = true;
    for (const r of this.replicas) {
      r.alive = false;
      r.thread.replicas.delete(r.key);
      r.thread.send({ t: "unload", key: r.key });
    }
    this.replicas = [];
    this.pool.forget(this);
  }
}

/** The sandbox: worker threads holding function instances; a Runtime for the host. */
export class SandboxPool implements Runtime {
  private threads: Thread[] = [];
  private size: number;
  private budgetBytes: number;
  private budgetMb: number;
  private proxies = new Map<string, FunctionProxy>();
  /** The proxy last put at the end of `proxies` (its most recently used): used again, it is not re-inserted (see get). */
  private latest: FunctionProxy | null = null;
  /** Instances set aside by park(), by snapshot key. */
  private parked = new Map<string, { proxy: FunctionProxy; timer: ReturnType<typeof setTimeout> }>();
  private creating = new Map<string, Promise<FunctionProxy>>();
  private closed = false;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private data: Omit<ThreadData, "watch" | "claims"> | undefined;
  private replaced = 0;
  /** Version snapshots for every thread (per process, LRU by bytes); none when snapshots are off. */
  readonly snapshots: SnapshotCache | undefined;
  /** Snapshots a thread is capturing after answering the load, by snapshot key: settled once kept (or not made). */
  readonly capturing = new Map<string, Promise<void>>();

  constructor(options: PoolOptions = {}) {
    if (options.snapshots !== false) this.snapshots = new SnapshotCache();
    this.size = Math.max(1, options.threads ?? availableParallelism());
    this.budgetMb = options.memoryBudgetMb ?? 1024;
    this.budgetBytes = this.budgetMb * 1024 * 1024;
  }

  get threadCount(): number { return this.size; }

  /** Threads running now and how many were stopped and replaced so far. */
  threadStats(): { threads: number; replaced: number } {
    return { threads: this.threads.length, replaced: this.replaced };
  }

  /**
   * The thread for new work not wanted on `exclude`: the least loaded that is
   * not stalled; a new one (up to the pool size) when none qualifies. Threads
   * start on demand, so a quiet server runs one.
   */
  pickThread(exclude: Set<Thread>): Thread {
    if (this.closed) throw new RuntimeClosedError();
    let best: Thread | undefined;
    for (const t of this.threads) if (!exclude.has(t) && !t.stalled() && (!best || t.load < best.load)) best = t;
    if ((!best || best.invs.size > 0) && this.threads.length < this.size) {
      const t = new Thread(this, this.threadData());
      this.threads.push(t);
      return t;
    }
    if (best) return best;
    for (const t of this.threads) if (!exclude.has(t) && (!best || t.load < best.load)) best = t;
    return best ?? this.threads[0];
  }

  private threadData(): Omit<ThreadData, "watch" | "claims"> {
    this.data ??= { wasm: compiledModule(), layout: engineLayout(), prelude: preludeSource(), snapshots: !!this.snapshots };
    return this.data;
  }

  /**
   * Keep one started thread holding no instance (up to the pool size): work
   * that must leave a stalled thread finds one ready instead of waiting for a
   * thread to start (hundreds of ms, seconds on a loaded machine).
   */
  spareAhead(): void {
    if (this.closed || this.threads.length >= this.size) return;
    if (this.threads.some((t) => !t.dead && t.replicas.size === 0 && t.loads.size === 0)) return;
    this.threads.push(new Thread(this, this.threadData()));
  }

  /** A thread not in `exclude` whose guest is not stalled, if any (or room to start one). */
  freeThread(exclude: Set<Thread>): boolean {
    return this.threads.length < this.size || this.threads.some((t) => !exclude.has(t) && !t.dead && !t.stalled());
  }

  /** A stopped thread is replaced by a fresh one (unless the pool is closing). */
  replace(t: Thread): void {
    const i = this.threads.indexOf(t);
    if (i < 0) return;
    if (this.closed) { this.threads.splice(i, 1); return; }
    this.replaced++;
    this.threads[i] = new Thread(this, this.data!);
  }

  forget(p: FunctionProxy): void {
    if (this.proxies.get(p.id) === p) this.proxies.delete(p.id);
  }

  /** An invocation started: the watchdog runs while any does. */
  busy(): void {
    this.watchdog ??= setInterval(() => {
      const now = performance.timeOrigin + performance.now();
      let running = false;
      for (const t of [...this.threads]) {
        t.check(now);
        if (!t.dead && t.stalled(now)) t.rehome();
        if (t.invs.size || t.loads.size) running = true;
      }
      if (!running) this.idle(true);
    }, WATCH_TICK_MS);
  }

  idle(force = false): void {
    if (!force) return;
    clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  /** Keep the snapshot `made` will bring under `skey`; loads of the same key wait for it meanwhile. */
  expectSnapshot(skey: string, made: Promise<Uint8Array | undefined>, meta: SnapshotMeta): void {
    const kept: Promise<void> = made.then((s) => {
      if (s && !this.closed) this.snapshots?.set(skey, s, meta);
      if (this.capturing.get(skey) === kept) this.capturing.delete(skey);
    });
    this.capturing.set(skey, kept);
  }

  hasRoom(): boolean {
    return this.stats().heapBytes + MIN_INSTANCE_BYTES <= this.budgetBytes;
  }

  async load(id: string, bundle: string, opts: LoadOptions): Promise<FunctionInstance> {
    if (this.closed) throw new RuntimeClosedError();
    const warm = this.get(id);
    if (warm) return warm;
    return singleFlight(this.creating, id, () => this.create(id, bundle, opts));
  }

  private async create(id: string, bundle: string, opts: LoadOptions): Promise<FunctionProxy> {
    const parked = this.unpark(id, bundle, opts);
    if (parked) return parked;
    await this.makeRoom(MIN_INSTANCE_BYTES, null);
    if (!this.hasRoom()) throw new MemoryBudgetError(this.budgetMb);
    const proxy = new FunctionProxy(id, this, bundle, opts);
    this.busy();
    await proxy.grow(new Set());
    if (this.closed) {
      await proxy.close();
      throw new RuntimeClosedError();
    }
    this.proxies.set(id, (this.latest = proxy));
    await this.makeRoom(0, proxy);
    return proxy;
  }

  get(id: string): FunctionInstance | undefined {
    const p = this.proxies.get(id);
    if (!p) return undefined;
    if (p.dead || !p.replicas.length) { this.proxies.delete(id); return undefined; }
    // re-insert: Map order is the LRU order. Not when it is already last: a delete and set per request
    // rehashes the table every few requests, and V8 keeps replaced tables linked (see id-map.ts)
    if (p !== this.latest) {
      this.proxies.delete(id);
      this.proxies.set(id, (this.latest = p));
    }
    return p;
  }

  async evict(id: string): Promise<void> {
    const p = this.proxies.get(id);
    this.proxies.delete(id);
    await p?.close();
  }

  /**
   * Set `id`'s instance aside for the next load of the same bundle, memory
   * class and env (the snapshot key): that load takes it as it is instead of
   * restoring the snapshot, which holds exactly this state. Only an instance
   * that never ran an invocation is kept (one per key, for PARK_MS, evicted
   * first when memory is short); any other is evicted.
   */
  async park(id: string): Promise<void> {
    const p = this.proxies.get(id);
    if (!p) return;
    const skey = this.snapshots && !p.used && !p.dead && !this.closed ? p.snapshotKey() : undefined;
    if (!skey || this.parked.has(skey)) return this.evict(id);
    this.proxies.delete(id);
    const timer = setTimeout(() => void this.dropParked(skey), PARK_MS);
    timer.unref();
    this.parked.set(skey, { proxy: p, timer });
  }

  /** The parked instance of this key, now serving as `id`; undefined when none is (or it has died). */
  private unpark(id: string, bundle: string, opts: LoadOptions): FunctionProxy | undefined {
    if (!this.parked.size || !this.snapshots) return undefined;
    const skey = snapshotKey(id, bundle, opts);
    const entry = this.parked.get(skey);
    if (!entry) return undefined;
    if (entry.proxy.dead || !entry.proxy.replicas.length) {
      void this.dropParked(skey);
      return undefined;
    }
    this.parked.delete(skey);
    clearTimeout(entry.timer);
    entry.proxy.adopt(id, opts);
    this.proxies.set(id, (this.latest = entry.proxy));
    return entry.proxy;
  }

  private async dropParked(skey: string): Promise<void> {
    const entry = this.parked.get(skey);
    if (!entry) return;
    this.parked.delete(skey);
    clearTimeout(entry.timer);
    await entry.proxy.close();
  }

  stats(): { instances: number; heapBytes: number } {
    let heapBytes = 0;
    for (const p of this.proxies.values()) heapBytes += p.memoryBytes();
    for (const { proxy } of this.parked.values()) heapBytes += proxy.memoryBytes();
    return { instances: this.proxies.size, heapBytes };
  }

  /** Evict parked, then least recently used idle instances until `extra` more bytes fit the budget. */
  private async makeRoom(extra: number, keep: FunctionProxy | null): Promise<void> {
    let total = this.stats().heapBytes + extra;
    for (const [skey, { proxy }] of [...this.parked]) {
      if (total <= this.budgetBytes) return;
      total -= proxy.memoryBytes();
      await this.dropParked(skey);
    }
    for (const [id, p] of [...this.proxies]) {
      if (total <= this.budgetBytes) break;
      if (p === keep || p.busy) continue;
      total -= p.memoryBytes();
      await this.evict(id);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.snapshots?.clear();
    await Promise.allSettled([...this.creating.values()]);
    await Promise.all([...this.parked.keys()].map((k) => this.dropParked(k)));
    const all = [...this.proxies.values()];
    this.proxies.clear();
    await Promise.all(all.map((p) => p.close()));
    this.idle(true);
    const threads = this.threads;
    this.threads = [];
    await Promise.all(threads.map(async (t) => {
      const exited = new Promise<void>((resolve) => t.worker.once("exit", () => resolve()));
      t.send({ t: "close" });
      t.stop({ kind: "restarted", message: "the runtime was closed" });
      await exited;
    }));
  }
}
