// One function version: a QuickJS context in its own WASM module, serving
// concurrent invocations through its event loop, with limits enforced here.
import { Buffer } from "node:buffer";
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, VmCallResult } from "quickjs-emscripten-core";
import type { EventKind, FailureKind, FunctionInstance, GuestFailure, HostFunction, HostFunctions, IncomingRequest, InvocationEnd, InvocationInput, InvocationStats, Limits, Outcome } from "./types.ts";
import { engineLayout, stackGap, STACK_TOUCHED_BYTES, usedBytes, type EngineModule } from "./engine.ts";
import { installNatives, nativeTable, type NativeFunctions, type NativeHost } from "./natives.ts";
import { adopt, describe, reseed, SnapshotRefused, type EngineState } from "./snapshot/adopt.ts";
import { captureMemory, type Dirty, type MemoryImage } from "./snapshot/image.ts";
import { restoreImage, scanDiff, type DiffImage, type ScannedDiff } from "./snapshot/diff.ts";
import { zeroFreeHeap } from "./snapshot/heap.ts";
import { frozenCopy, type FrozenCopy } from "./snapshot/frozen.ts";
import { preludeSource } from "./prelude.ts";
import { encode, decode, decodeResultHead, FETCH_HEAD, RESULT_HEAD } from "./contract.js";
import { callInfo, errorInfo, hostReply, WIRE, type HostReply } from "./host-reply.ts";
import { fetchHead, parsedUrl } from "./fetch-head.ts";
import { textBody } from "./text-body.ts";
import { BundleEvalError, INVOCATION_ENDED } from "./errors.ts";
import { runPendingJobs } from "./jobs.ts";
import { leanHostCalls } from "./host-calls.ts";
import { IdMap } from "./id-map.ts";
import { GuestBody, STREAMED_WALL_MS } from "./body-stream.ts";
import { RequestBody, WHOLE_BODY_BYTES } from "./request-body.ts";

/** QuickJS stack budget: small enough that V8's own stack never overflows first. */
const MAX_STACK_BYTES = 96 * 1024;
/** Jobs still running this long past a blown deadline mean a runaway: kill the module. */
const RUNAWAY_GRACE_MS = 100;
/** Host-side cleanup segments (not charged to any invocation) get this much CPU. */
const HOUSEKEEPING_CPU_MS = 200;

type Kind = "fetch" | EventKind;

interface Invocation {
  id: number;
  input: InvocationInput;
  limits: Limits;
  /** Created on the first host call: most invocations never need one. */
  controller?: AbortController;
  started: number;
  wallEnd: number;
  cpuMs: number;
  subrequests: number;
  calls: Set<number>;
  timers: Map<number, ReturnType<typeof setTimeout>>;
  wallTimer?: ReturnType<typeof setTimeout>;
  report?: { ok: boolean; value?: unknown; error?: GuestFailure };
  waitDone: boolean;
  responded: boolean;
  consoleLines: number;
  consoleBytes: number;
  ended: boolean;
  resolve: (o: Outcome<unknown>) => void;
  onValue: (v: unknown, inv: Invocation) => Outcome<unknown>;
  /** The response body, when the guest answered with a stream. */
  body?: GuestBody;
  /** The request body, when it reaches the guest as a stream ("request.read"). */
  request?: RequestBody;
}

interface Entry { invoke: QuickJSHandle; settle: QuickJSHandle; fireTimer: QuickJSHandle; cleanup: QuickJSHandle; describe: QuickJSHandle; pullBody: QuickJSHandle; cancelBody: QuickJSHandle }
const ENTRY_NAMES = ["invoke", "settle", "fireTimer", "cleanup", "describe", "pullBody", "cancelBody"] as const;

/** A prepared or loaded instance as a snapshot holds it: its memory and what lives outside it. */
export interface InstanceImage {
  /** A prepared instance's: the whole image; a loaded one's: a diff against the prepared one's. */
  memory: MemoryImage | DiffImage;
  engine: EngineState;
  /** Guest handles the instance keeps (JSValue pointers in the heap). */
  entry: Record<keyof Entry, number>;
  identity: number;
  nextInvId: number;
  nextCallId: number;
  /** Set for a loaded instance: what its bundle exported. */
  loaded?: { id: string; handlers: ("fetch" | EventKind)[]; config: string | null };
}

/** Per process: where Math.random's state sits in a context, and the chunks a fresh module dirties. */
export interface RestoreContext {
  randomOffset: number;
  /** Chunks a fresh module has written. */
  dirty: Uint32Array;
  /** What a module used before may have written (all but the C stack no code reaches). */
  usedDirty(memory: WebAssembly.Memory): Dirty;
}

/** First line of a bundle that is an ES module (may use top-level await); others are classic scripts. */
export const MODULE_MARKER = "// hangar:module";

export interface InstanceOptions {
  filename?: string;
  limits: Limits;
  /** Secrets and vars the top-level code sees (`Deno.env`), as an invocation would. */
  env?: Record<string, string>;
  /** Console output while the bundle evaluates (top-level code). */
  onConsole?: InvocationInput["onConsole"];
}

class Killed extends Error {
  constructor(readonly kind: FailureKind, message: string) { super(message); }
}

function limitMessage(kind: FailureKind, limits: Limits): string {
  switch (kind) {
    case "cpu": return `CPU time limit of ${limits.cpuMs} ms exceeded`;
    case "wall": return `wall-clock limit of ${limits.wallMs} ms exceeded`;
    case "memory": return `memory limit of ${limits.memoryMb} MiB exceeded`;
    case "stack": return "Maximum call stack size exceeded";
    default: return "the instance stopped";
  }
}

/** Request data as the guest receives it: a body given as a stream reaches the guest's `Request.body` as one, read on demand. */
export interface RequestInput { url: string; method: string; headers: [string, string][]; body: Uint8Array | ReadableStream<Uint8Array> | null }

/**
 * Watchdog hooks of the thread running instances (see worker/thread.ts): told
 * when a run segment starts (with its deadline) and ends; `interrupted` is read
 * by the engine's interrupt handler so another thread can stop a segment.
 */
export interface SegmentWatch {
  begin(deadline: number, tag: number, kind: "cpu" | "wall"): void;
  end(): void;
  interrupted(): boolean;
}

/** Console capture caps per invocation (lines and bytes), applied where the line is made. */
export const CONSOLE_MAX_LINES = 1000;
export const CONSOLE_MAX_BYTES = 256 * 1024;

export class Instance implements FunctionInstance {
  /** Set once per thread by the sandbox worker; absent in-process. */
  static watch: SegmentWatch | undefined;
  /** The guest prelude script when it was built elsewhere (the main thread); else built here. */
  static preludeSource: string | undefined;

  readonly handlers = new Set<"fetch" | EventKind>();
  config: unknown = undefined;
  /** Called once when the module is thrown away (limit hit) or closed. */
  onDead?: () => void;
  /** Given the engine module back after a clean close, so another instance can be restored into it. */
  recycle?: (engine: EngineModule) => void;
  private rt: QuickJSRuntime;
  private ctx: QuickJSContext;
  private entry!: Entry;
  // IdMaps, not Maps: see id-map.ts
  private invs = new IdMap<Invocation>();
  private timerOwner = new IdMap<Invocation>();
  private nextInvId = 1;
  private nextCallId = 1;
  private current: Invocation | null = null;
  /** Guest cell holding the id of the invocation guest code runs for now (see guest/bridge.js). */
  private identity: QuickJSHandle | undefined;
  private deadline = Infinity;
  private wallDeadline = Infinity;
  private interruptReason: FailureKind | null = null;
  /**
   * Invocations a segment's host calls reported on, in order, each once. An
   * array swapped per segment, not a Set cleared per segment: V8 links a
   * cleared Set's old table to its new one, so once one table reached the old
   * generation every later table and what it held was promoted too, until a
   * full collection (in process, a hello invocation promoted 1,445 bytes; 304 with this).
   */
  private touched: Invocation[] = [];
  private dead: { kind: FailureKind; message: string } | null = null;
  private closed = false;
  private loadConsole?: InstanceOptions["onConsole"];
  private growFailed = false;
  /** Host functions the runtime serves itself (crypto.subtle), after the invocation's own. */
  private builtins: HostFunctions = {};
  /** The natives installed in the context, by name (a snapshot registers them again by id). */
  private natives: NativeFunctions = {};
  private configJson: string | null = null;

  /** The function version id; set when a prepared instance is given its bundle. */
  id = "";

  private constructor(private engine: EngineModule, adopted?: { rt: QuickJSRuntime; ctx: QuickJSContext }) {
    // the engine grows its Memory object: a refused growth means the guest wanted more than its limit
    engine.onGrowFailed = () => { this.growFailed = true; };
    this.rt = adopted?.rt ?? engine.module.newRuntime();
    this.rt.setMaxStackSize(MAX_STACK_BYTES);
    this.ctx = adopted?.ctx ?? this.rt.newContext();
    leanHostCalls(this.ctx);
    this.rt.setInterruptHandler(() => this.shouldInterrupt());
  }

  /**
   * Rebuild an instance from a snapshot in a fresh engine module of the same
   * build: its memory is written back and the wrappers and natives are
   * re-attached to the same pointers and ids. Top-level code does not run again.
   */
  static restore(engine: EngineModule, img: InstanceImage, rc: RestoreContext): Instance {
    if (engine.memory.buffer.byteLength < img.memory.bytes && !engine.resize(img.memory.bytes)) {
      throw new SnapshotRefused(`the snapshot needs ${img.memory.bytes} bytes, more than this instance may hold`);
    }
    restoreImage(engine.memory, img.memory, engine.used ? rc.usedDirty(engine.memory) : { chunks: rc.dirty }, engine.holds);
    engine.used = true;
    engine.holds = undefined;
    reseed(engine.memory, img.engine.ctx, rc.randomOffset);
    const { rt, ctx, handle, register } = adopt(engine.module, img.engine);
    const inst = new Instance(engine, { rt, ctx });
    const table = nativeTable(ctx, inst.nativeHost());
    register(table.fns);
    inst.natives = table.fns;
    inst.builtins = table.host;
    inst.identity = img.identity ? handle(img.identity) : undefined;
    inst.entry = Object.fromEntries(ENTRY_NAMES.map((n) => [n, handle(img.entry[n])])) as unknown as Entry;
    inst.nextInvId = img.nextInvId;
    inst.nextCallId = img.nextCallId;
    if (img.loaded) {
      inst.id = img.loaded.id;
      for (const h of img.loaded.handlers) inst.handlers.add(h);
      inst.configJson = img.loaded.config;
      inst.config = img.loaded.config === null ? undefined : (decode(img.loaded.config, [], WIRE) as { v: unknown }).v;
    }
    return inst;
  }

  /**
   * Snapshot this instance (prepared, or loaded and not yet invoked): only
   * when nothing is in flight, so the image holds no half-done work.
   */
  capture(): InstanceImage & { memory: MemoryImage } {
    return this.captureWith((memory) => captureMemory(memory, stackGap()));
  }

  /**
   * What capture returns, its memory as the blocks that differ from `base`, in
   * two steps: now, the engine's values and a copy of the memory (one native
   * copy: the instance may run again at once); when the returned function is
   * called (off the request path), the diff of that copy, handed to `use`. The
   * diff is tens of ms for a 500 KB bundle (its loops seldom JIT-optimised, a
   * capture being rare); the copy goes to memory kept for it (see frozenCopy).
   */
  freezeState(base: MemoryImage): <T>(use: (state: Omit<InstanceImage, "memory"> & { memory: ScannedDiff }) => T) => T {
    let copy: FrozenCopy | undefined;
    const gap = stackGap();
    const state = this.captureWith((memory) => (copy = frozenCopy(new Uint8Array(memory.buffer), gap)), false);
    const { stackTop } = engineLayout();
    return (use) => {
      try {
        zeroFreeHeap(copy!.bytes, stackTop);
        return use({ ...state, memory: scanDiff(copy!.bytes, base, gap) });
      } finally {
        copy!.release();
      }
    };
  }

  private captureWith<M>(scan: (memory: WebAssembly.Memory) => M, zeroFree = true): Omit<InstanceImage, "memory"> & { memory: M } {
    if (!this.alive) throw new SnapshotRefused("the instance is not alive");
    if (this.invs.size || this.timerOwner.size || this.rt.hasPendingJob()) throw new SnapshotRefused("the instance has work in flight");
    const names = new Map<unknown, string>(Object.entries(this.natives).map(([k, v]) => [v, k]));
    const engine = describe(this.rt, this.ctx, names);
    // no guest code runs now, so the C stack holds only dead frames: zeroed, they neither vary nor cost space
    const { stackTop } = engineLayout();
    new Uint8Array(this.engine.memory.buffer).fill(0, stackTop - STACK_TOUCHED_BYTES, stackTop);
    // nor does free heap memory: zeroed, it is neither captured nor restored (a frozen copy's is zeroed in the copy)
    if (zeroFree) zeroFreeHeap(this.engine.memory, stackTop);
    return {
      memory: scan(this.engine.memory),
      engine,
      entry: Object.fromEntries(ENTRY_NAMES.map((n) => [n, this.entry[n].value as unknown as number])) as Record<keyof Entry, number>,
      identity: (this.identity?.value as unknown as number) ?? 0,
      nextInvId: this.nextInvId,
      nextCallId: this.nextCallId,
      loaded: this.id ? { id: this.id, handlers: [...this.handlers], config: this.configJson } : undefined,
    };
  }

  /** The context pointer (the Math.random state is found from it once per process). */
  get contextPointer(): number { return (this.ctx as unknown as { ctx: { value: number } }).ctx.value; }
  /** The context itself, for that one probe. */
  get context(): QuickJSContext { return this.ctx; }

  /** Create the context and install the prelude: everything but the bundle, so it can be done ahead. */
  static async prepare(engine: EngineModule): Promise<Instance> {
    const inst = new Instance(engine);
    try {
      inst.setup();
      return inst;
    } catch (e) {
      await inst.close();
      throw e;
    }
  }

  /** Evaluate the function's bundle in a prepared instance; closes it on failure. */
  async load(id: string, bundle: string, opts: InstanceOptions): Promise<Instance> {
    try {
      this.id = id;
      this.loadConsole = opts.onConsole;
      this.evaluate(bundle, opts);
      return this;
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /** Bytes the instance really holds (its heap's high-water mark plus static data and the stack it can touch). */
  memoryBytes(): number {
    return usedBytes(this.engine.memory);
  }

  /** Bytes of WASM memory reserved (what it has grown to): compared with the limit to recycle a grown instance. */
  reservedBytes(): number {
    return this.engine.memory.buffer.byteLength;
  }

  /** Bytes the instance may grow to before it counts as over its limit. */
  get limitBytes(): number { return this.engine.limitBytes; }
  get alive(): boolean { return !this.dead && !this.closed; }
  get busy(): boolean { return this.invs.size > 0; }

  /** QuickJS object and allocation counts (for leak tests). */
  debugCounts(): { objects: number; mallocs: number } {
    const h = this.rt.computeMemoryUsage();
    try {
      const u = this.ctx.dump(h) as { obj_count: number; malloc_count: number };
      return { objects: u.obj_count, mallocs: u.malloc_count };
    } finally { h.dispose(); }
  }

  async fetch(request: Request | IncomingRequest, input: InvocationInput): Promise<Outcome<Response>> {
    let body: RequestInput["body"] = null;
    const method = request.method;
    if (method !== "GET" && method !== "HEAD" && request.body !== null) {
      // a Request's body streams unless it declares a small length (read whole, one crossing)
      const declared = request instanceof Request ? request.headers.get("content-length") : null;
      body = declared !== null && Number(declared) <= WHOLE_BODY_BYTES ? new Uint8Array(await (request as Request).arrayBuffer()) : request.body;
    }
    const headers = request instanceof Request ? requestHeaders(request.headers) : request.headers;
    return this.fetchData({ url: request.url, method, headers, body }, input);
  }

  /** Run the fetch handler on request data (the sandbox thread has no Request to start from). */
  async fetchData(data: RequestInput, input: InvocationInput): Promise<Outcome<Response>> {
    const o = await this.fetchRaw(data, input);
    if (!o.ok) return o;
    const r = o.value;
    try {
      const headers = new Headers();
      for (const [k, val] of r.headers) headers.append(k, val);
      const body = r.stream ?? (typeof r.body === "string" ? textBody(r.body, r.headers) : r.body as Uint8Array<ArrayBuffer> | null);
      return { ok: true, value: new Response(body, { status: r.status, statusText: r.statusText, headers }), stats: o.stats };
    } catch (e) {
      return { ok: false, error: { kind: "bad-response", message: `invalid response: ${(e as Error).message}` }, stats: o.stats };
    }
  }

  /**
   * The fetch handler's answer as data: no Response is built when the guest's
   * body was bytes (the sandbox thread sends those on as they are).
   */
  fetchRaw(data: RequestInput, input: InvocationInput): Promise<Outcome<ResponseData>> {
    const stream = data.body instanceof ReadableStream ? data.body : undefined;
    const head = fetchHead({ ...data, stream: stream !== undefined }, input);
    if (head !== null) return this.fetchHead(head, data.body, input);
    // a field that does not fit a head: the general encoding, the URL parsed here all the same
    const request = stream ? { ...data, body: null, stream: true, parsed: parsedUrl(data.url) } : { ...data, parsed: parsedUrl(data.url) };
    return this.start("fetch", { request }, input, (v, inv) => toResponseData(v, () => this.streamBody(inv)), stream) as Promise<Outcome<ResponseData>>;
  }

  /** fetchRaw for a request whose fetch head was made elsewhere (see fetch-head.ts); `body` as fetchRaw's. */
  fetchHead(head: string, body: Uint8Array | ReadableStream<Uint8Array> | null, input: InvocationInput): Promise<Outcome<ResponseData>> {
    const stream = body instanceof ReadableStream ? body : undefined;
    return this.start("fetch", { head, bytes: stream ? null : body }, input, (v, inv) => toResponseData(v, () => this.streamBody(inv)), stream) as Promise<Outcome<ResponseData>>;
  }

  dispatch(kind: EventKind, payload: unknown, input: InvocationInput): Promise<Outcome<unknown>> {
    return this.start(kind, { payload }, input, (v) => ({ ok: true, value: v, stats: zeroStats() }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const inv of [...this.invs.values()]) this.end(inv, { kind: "threw", message: "the function instance was closed" });
    if (!this.dead) {
      // a healthy module is disposed handle by handle (a leak would show here)
      for (const h of Object.values(this.entry ?? {})) if (h.alive) h.dispose();
      if (this.identity?.alive) this.identity.dispose();
      this.ctx.dispose();
      this.rt.dispose();
      this.engine.onGrowFailed = undefined;
      this.recycle?.(this.engine);
    }
    this.onDead?.();
  }

  // ---- invocations ----

  private start(kind: Kind, data: Record<string, unknown>, input: InvocationInput, onValue: Invocation["onValue"], body?: ReadableStream<Uint8Array>): Promise<Outcome<unknown>> {
    const now = performance.now();
    const limits = input.limits;
    const inv: Invocation = {
      id: this.nextInvId++, input, limits, started: now, wallEnd: now + limits.wallMs,
      cpuMs: 0, subrequests: 0, calls: new Set(), timers: new Map(), waitDone: false, responded: false, ended: false, consoleLines: 0, consoleBytes: 0,
      resolve: () => {}, onValue, request: body && new RequestBody(body),
    };
    const promise = new Promise<Outcome<unknown>>((resolve) => { inv.resolve = resolve; });
    if (!this.alive) {
      inv.request?.cancel();
      inv.responded = true;
      inv.resolve({ ok: false, error: this.dead ?? { kind: "threw", message: "the function instance is closed" }, stats: this.stats(inv) });
      return promise;
    }
    this.invs.set(inv.id, inv);
    inv.wallTimer = setTimeout(() => this.end(inv, { kind: "wall", message: limitMessage("wall", limits) }), limits.wallMs);
    let args: (number | string | Uint8Array)[];
    try {
      // a request goes as one string the guest splits (fetch-head.ts), unless a field does not fit one
      const head = typeof data.head === "string" ? data.head : null;
      const bytes = data.bytes as Uint8Array | null | undefined;
      if (head !== null) args = bytes ? [inv.id, FETCH_HEAD, head, bytes] : [inv.id, FETCH_HEAD, head];
      else {
        const enc = encode({ ...data, env: input.env, requestId: input.requestId, auth: input.auth }, WIRE);
        args = [inv.id, kind, enc[0], ...enc[1]];
      }
    } catch (e) {
      this.end(inv, { kind: "threw", message: `payload is not JSON-like: ${(e as Error).message}` });
      return promise;
    }
    this.segment(inv, () => this.call(this.entry.invoke, args));
    return promise;
  }

  private stats(inv: Invocation) {
    return { cpuMs: inv.cpuMs, wallMs: performance.now() - inv.started, memoryBytes: this.memoryBytes() };
  }

  /** End an invocation: abort its host work, cancel its timers, answer if it has not. */
  private end(inv: Invocation, failure?: GuestFailure): void {
    if (inv.ended) return;
    inv.ended = true;
    // after the current segment's CPU time is counted
    if (inv.id !== 0) queueMicrotask(() => { try { inv.input.onEnd?.(endOf(inv)); } catch { /* the owner's hook must not break the instance */ } });
    clearTimeout(inv.wallTimer);
    for (const [id, t] of inv.timers) { clearTimeout(t); this.timerOwner.delete(id); }
    this.invs.delete(inv.id);
    inv.controller?.abort(INVOCATION_ENDED);
    inv.request?.cancel();
    if (inv.body?.open) {
      if (failure) inv.body.error(failure.message); else inv.body.end();
    }
    if (!inv.responded) {
      inv.responded = true;
      inv.resolve({ ok: false, error: failure ?? { kind: "threw", message: "the invocation ended without a result" }, stats: this.stats(inv) });
    }
    if (this.alive && (failure || inv.calls.size || inv.timers.size)) {
      const leftovers = JSON.stringify({ calls: [...inv.calls], timers: [...inv.timers.keys()] });
      this.segment(null, () => this.call(this.entry.cleanup, [inv.id, leftovers]));
    }
    if (inv.calls.size) inv.calls.clear(); // a cleared Set allocates a new table: none when there is nothing to clear
    if (inv.timers.size) inv.timers.clear();
  }

  private respond(inv: Invocation): void {
    const r = inv.report!;
    inv.responded = true;
    if (!r.ok) { inv.resolve({ ok: false, error: r.error!, stats: this.stats(inv) }); return; }
    const o = inv.onValue(r.value, inv);
    const stats: InvocationStats = this.stats(inv);
    if (o.stats.responseBytes !== undefined) stats.responseBytes = o.stats.responseBytes;
    inv.resolve({ ...o, stats } as Outcome<unknown>);
  }

  // ---- running guest code ----

  private overMemory(): boolean {
    return this.growFailed || this.engine.memory.buffer.byteLength >= this.engine.limitBytes;
  }

  private shouldInterrupt(): boolean {
    if (this.overMemory()) { this.interruptReason = "memory"; return true; }
    if (Instance.watch?.interrupted()) { this.interruptReason ??= this.wallDeadline < this.deadline ? "wall" : "cpu"; return true; }
    const now = performance.now();
    if (now > this.deadline) { this.interruptReason ??= "cpu"; return true; }
    if (now > this.wallDeadline) { this.interruptReason ??= "wall"; return true; }
    return false;
  }

  /** Call a guest function with host values turned into handles (numbers, strings, bytes). */
  private call(fn: QuickJSHandle, args: (number | string | Uint8Array)[]): VmCallResult<QuickJSHandle> {
    const handles = args.map((a) => typeof a === "number" ? this.ctx.newNumber(a)
      : typeof a === "string" ? this.ctx.newString(a)
      : this.ctx.newArrayBuffer(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength) as ArrayBuffer));
    try {
      return this.ctx.callFunction(fn, this.ctx.undefined, ...handles);
    } finally {
      for (const h of handles) h.dispose();
    }
  }

  /**
   * Run guest code and then every job it queued, charged to `inv`.
   * Returns the guest's thrown value (dumped) if the body threw.
   */
  private segment(inv: Invocation | null, body: () => VmCallResult<QuickJSHandle> | void): { error?: unknown; stopped?: FailureKind } {
    if (!this.alive) return {};
    const t0 = performance.now();
    const limits = inv?.limits;
    this.current = inv;
    if (this.identity) this.ctx.newNumber(inv?.id ?? 0).consume((h) => this.ctx.setProp(this.identity!, "inv", h));
    this.deadline = t0 + (limits ? Math.max(0, limits.cpuMs - inv!.cpuMs) : HOUSEKEEPING_CPU_MS);
    this.wallDeadline = inv ? inv.wallEnd : Infinity;
    this.interruptReason = null;
    const watch = Instance.watch;
    if (watch) {
      const wallFirst = this.wallDeadline < this.deadline;
      watch.begin(performance.timeOrigin + (wallFirst ? this.wallDeadline : this.deadline), inv?.input.tag ?? -1, wallFirst ? "wall" : "cpu");
    }
    let thrown: unknown;
    let killed: Killed | undefined;
    try {
      const r = body();
      if (r) {
        if (r.error) { thrown = this.ctx.dump(r.error); r.error.dispose(); } else r.value.dispose();
      }
      this.drain();
    } catch (e) {
      killed = e instanceof Killed ? e
        : e instanceof RangeError && /call stack/i.test(e.message) ? new Killed("stack", limitMessage("stack", limits ?? ({} as Limits)))
        : new Killed(this.interruptReason ?? "threw", `the engine failed: ${(e as Error)?.message ?? String(e)}`);
    } finally {
      const t1 = performance.now();
      if (inv) inv.cpuMs += t1 - t0;
      this.current = null;
      watch?.end();
      // a run of long native calls never reaches the interrupt handler: the limit is checked after every segment too
      if (!this.interruptReason && inv && limits && inv.cpuMs > limits.cpuMs) this.interruptReason = "cpu";
      if (!this.interruptReason && inv && t1 > this.wallDeadline) this.interruptReason = "wall";
    }
    if (!killed && this.overMemory()) killed = new Killed("memory", "");
    if (!killed && (this.interruptReason as FailureKind | null) === "memory") killed = new Killed("memory", "");
    if (killed) {
      const message = killed.message || limitMessage(killed.kind, limits ?? ({ memoryMb: Math.round(this.engine.limitBytes / 1048576) } as Limits));
      this.kill({ kind: killed.kind, message });
      return { error: { name: "Error", message }, stopped: killed.kind };
    }
    const stopped = this.interruptReason ?? undefined;
    if (stopped && inv && limits) this.end(inv, { kind: stopped, message: limitMessage(stopped, limits) });
    this.afterSegment();
    return { error: thrown, stopped };
  }

  private drain(): void {
    while (this.rt.hasPendingJob()) {
      runPendingJobs(this.rt, this.ctx, this.engine.memory)?.dispose();
      if (this.interruptReason === "memory") throw new Killed("memory", "");
      if (this.interruptReason && performance.now() > this.deadline + RUNAWAY_GRACE_MS) {
        throw new Killed(this.interruptReason, "");
      }
    }
  }

  /** `inv` has news for afterSegment (a report, or its waitUntil work is done). */
  private touch(inv: Invocation): void {
    if (!this.touched.includes(inv)) this.touched.push(inv);
  }

  private afterSegment(): void {
    if (!this.touched.length) return;
    const touched = this.touched;
    this.touched = [];
    for (const inv of touched) {
      if (inv.report && !inv.responded) this.respond(inv);
      if (inv.waitDone) this.end(inv);
    }
  }

  /** The module is unusable (limit hit inside it): fail everything and drop it without touching it again. */
  private kill(reason: { kind: FailureKind; message: string }): void {
    if (this.dead) return;
    this.dead = reason;
    for (const inv of [...this.invs.values()]) this.end(inv, { kind: reason.kind, message: reason.message });
    this.closed = true;
    this.onDead?.();
  }

  // ---- setup ----

  private setup(): void {
    const table = installNatives(this.ctx, this.nativeHost());
    this.builtins = table.host;
    this.natives = table.fns;
    const r = this.ctx.evalCode(Instance.preludeSource ?? preludeSource(), "hangar:prelude.js", { type: "global" });
    if (r.error) {
      const err = this.ctx.dump(r.error);
      r.error.dispose();
      throw new Error(`guest prelude failed: ${JSON.stringify(err)}`);
    }
    const obj = r.value;
    this.identity = this.ctx.getProp(this.ctx.global, "__hangar_identity");
    const del = this.ctx.evalCode("delete globalThis.__hangar_identity");
    if (del.error) del.error.dispose(); else del.value.dispose();
    try {
      const get = (name: string) => this.ctx.getProp(obj, name);
      this.entry = { invoke: get("invoke"), settle: get("settle"), fireTimer: get("fireTimer"), cleanup: get("cleanup"), describe: get("describe"), pullBody: get("pullBody"), cancelBody: get("cancelBody") };
    } finally {
      obj.dispose();
    }
  }

  private evaluate(bundle: string, opts: InstanceOptions): void {
    const now = performance.now();
    // top-level code runs as a pseudo-invocation so its timers and host calls are bounded too
    const loadInv: Invocation = {
      id: 0, input: { requestId: "load", env: opts.env ?? {}, auth: null, limits: opts.limits, host: {}, onConsole: opts.onConsole },
      limits: opts.limits, started: now, wallEnd: now + opts.limits.wallMs, cpuMs: 0, subrequests: 0,
      calls: new Set(), timers: new Map(), waitDone: false, responded: true, ended: false, consoleLines: 0, consoleBytes: 0, resolve: () => {}, onValue: () => ({ ok: true, value: null, stats: zeroStats() }),
    };
    // An ES module with top-level await evaluates to a promise: it must settle within the load's jobs.
    const type = bundle.startsWith(MODULE_MARKER) ? "module" : "global";
    let evaluated: QuickJSHandle | undefined;
    const res = this.segment(loadInv, () => {
      const r = this.ctx.evalCode(bundle, opts.filename ?? "bundle.js", { type });
      if (type === "global" || r.error) return r;
      evaluated = r.value;
    });
    if (evaluated && this.alive && res.error === undefined && !res.stopped) {
      const state = this.ctx.getPromiseState(evaluated);
      if (state.type === "rejected") { res.error = this.ctx.dump(state.error); state.error.dispose(); }
      else if (state.type === "pending") res.error = { name: "Error", message: "top-level await is still waiting after the module's own work: awaiting a timer, fetch or other I/O at module scope is not supported; do it in the handler" };
      else if (!state.notAPromise) state.value.dispose();
    }
    if (evaluated?.alive && this.alive) evaluated.dispose();
    const stopped = this.dead ?? (res.stopped ? { kind: res.stopped, message: limitMessage(res.stopped, opts.limits) } : null);
    this.end(loadInv);
    if (stopped) throw new BundleEvalError(`evaluating ${opts.filename ?? "the bundle"} stopped: ${stopped.message}`, { kind: stopped.kind });
    if (res.error !== undefined) {
      const e = res.error as { name?: string; message?: string; stack?: string } | string;
      const msg = typeof e === "object" && e !== null ? `${e.name ?? "Error"}: ${e.message}` : String(e);
      throw new BundleEvalError(`evaluating ${opts.filename ?? "the bundle"} threw ${msg}`, { stack: typeof e === "object" && e ? e.stack : undefined });
    }
    const d = this.ctx.callFunction(this.entry.describe, this.ctx.undefined);
    if (d.error) { d.error.dispose(); throw new BundleEvalError("could not read the module's exports"); }
    const info = JSON.parse(d.value.consume((h) => this.ctx.getString(h))) as { handlers: ("fetch" | EventKind)[]; config: string | null };
    for (const h of info.handlers) this.handlers.add(h);
    this.configJson = info.config;
    this.config = info.config === null ? undefined : (decode(info.config, [], WIRE) as { v: unknown }).v;
    this.loadConsole = undefined;
  }

  /**
   * The invocation the guest code making a native call runs for, as the guest
   * says where the call is made (its identity cell), never merely the segment
   * being drained: a promise shared by two invocations resumes each as itself.
   */
  private caller(): Invocation | null {
    const cur = this.current;
    if (!this.identity || !cur) return cur;
    const id = this.ctx.getProp(this.identity, "inv").consume((h) => this.ctx.getNumber(h));
    if (id === cur.id) return cur;
    return this.invs.get(id) ?? null;
  }

  private nativeHost(): NativeHost {
    return {
      overrun: () => this.current !== null && this.shouldInterrupt(),
      hostCall: (name, json, buffers) => {
        const id = this.nextCallId++;
        const inv = this.caller();
        if (!inv || inv.ended) return id; // nobody to answer to: the promise stays pending
        inv.calls.add(id);
        void this.runHostCall(inv, id, name, json, buffers);
        return id;
      },
      setTimer: (id, ms) => {
        const inv = this.caller();
        if (!inv || inv.ended) return;
        const t = setTimeout(() => {
          inv.timers.delete(id);
          this.timerOwner.delete(id);
          this.segment(inv, () => this.call(this.entry.fireTimer, [id]));
        }, Math.min(ms, 2 ** 31 - 1));
        inv.timers.set(id, t);
        this.timerOwner.set(id, inv);
      },
      clearTimer: (id) => {
        const inv = this.timerOwner.get(id);
        if (!inv) return;
        clearTimeout(inv.timers.get(id));
        inv.timers.delete(id);
        this.timerOwner.delete(id);
      },
      console: (level, message) => {
        const inv = this.caller();
        const sink = inv?.input.onConsole ?? this.loadConsole;
        if (!sink) return;
        if (inv) {
          // capped where the line is made: a loop of large console.log must not grow host memory
          if (inv.consoleLines < 0) return; // already truncated
          if (inv.consoleLines >= CONSOLE_MAX_LINES || inv.consoleBytes + message.length > CONSOLE_MAX_BYTES) {
            const room = Math.max(0, CONSOLE_MAX_BYTES - inv.consoleBytes);
            message = `${message.slice(0, inv.consoleLines >= CONSOLE_MAX_LINES ? 0 : room)}[console output truncated: an invocation keeps at most ${CONSOLE_MAX_LINES} lines and ${CONSOLE_MAX_BYTES} bytes]`;
            inv.consoleLines = -1;
          } else {
            inv.consoleLines++;
            inv.consoleBytes += message.length;
          }
        }
        try { sink(level as never, message); } catch { /* a logging sink must not break the guest */ }
      },
      envGet: (name) => {
        const env = this.caller()?.input.env;
        return env && Object.hasOwn(env, name) ? env[name] : undefined;
      },
      envAll: () => ({ ...(this.caller()?.input.env ?? {}) }),
      done: (invId, json, buffers, text) => {
        const inv = this.invs.get(invId);
        if (!inv || inv.responded) return;
        let report: Invocation["report"];
        if (json.startsWith(RESULT_HEAD)) {
          // a response head, its text body (if any) beside it (guest/index.js fetchReport)
          const head = decodeResultHead(json);
          report = head ? { ok: true, value: { ...head, body: text ?? null } }
            : { ok: false, error: { kind: "bad-response", message: "the function's response head could not be read" } };
        } else {
          report = decode(json, buffers, WIRE) as Invocation["report"];
          if (text !== undefined && report?.ok && report.value !== null && typeof report.value === "object") (report.value as { body: unknown }).body = text;
        }
        inv.report = report;
        this.touch(inv);
      },
      bodyChunk: (invId, bytes, more) => this.invs.get(invId)?.body?.chunk(bytes, more),
      bodyEnd: (invId) => this.invs.get(invId)?.body?.end(),
      bodyError: (invId, message) => this.invs.get(invId)?.body?.error(message),
      waitDone: (invId) => {
        const inv = this.invs.get(invId);
        if (!inv) return;
        inv.waitDone = true;
        this.touch(inv);
      },
    };
  }

  /** A streamed response body: each pull runs guest code charged to the invocation; the wall limit becomes the streaming one. */
  private streamBody(inv: Invocation): ReadableStream<Uint8Array> {
    const body = new GuestBody(
      (chunks, bytes) => this.segment(inv, () => this.call(this.entry.pullBody, [inv.id, chunks, bytes])),
      (reason) => { if (!inv.ended) this.segment(inv, () => this.call(this.entry.cancelBody, [inv.id, reason])); },
    );
    inv.body = body;
    const wallMs = Math.max(inv.limits.wallMs, STREAMED_WALL_MS);
    clearTimeout(inv.wallTimer);
    inv.wallEnd = inv.started + wallMs;
    inv.wallTimer = setTimeout(() => this.end(inv, { kind: "wall", message: `wall-clock limit of ${wallMs} ms for a streamed response exceeded` }), Math.max(0, inv.wallEnd - performance.now()));
    return body.stream;
  }

  private async runHostCall(inv: Invocation, id: number, name: string, json: string, buffers: Uint8Array[]): Promise<void> {
    await null; // never answer inside the segment that made the call
    let reply: HostReply;
    try {
      const input = inv.input;
      const fn: HostFunction | undefined = name === "request.read" ? (a) => readRequest(inv, a)
        : Object.hasOwn(input.host, name) ? input.host[name] : Object.hasOwn(this.builtins, name) ? this.builtins[name] : undefined;
      if (!fn && !input.forward) throw Object.assign(new Error(`host function "${name}" is not available`), { code: "ENOSYS" });
      if (name === "fetch" && ++inv.subrequests > inv.limits.subrequests) {
        throw Object.assign(new Error(`subrequest limit of ${inv.limits.subrequests} fetch calls per invocation exceeded`), { code: "SUBREQUEST_LIMIT" });
      }
      // a call forwarded to the pool is aborted there, with the invocation: no signal here (making one, and
      // aborting it at the end, cost a sandbox thread about 3% of its time per host-calling invocation);
      // its arguments and answer cross encoded, as the guest reads them
      reply = fn
        ? hostReply(true, await fn(decode(json, buffers, WIRE) as unknown[], callInfo(input.requestId, inv)))
        : await input.forward!(name, json, buffers);
    } catch (e) {
      reply = hostReply(false, errorInfo(e));
    }
    if (!this.alive || inv.ended || !inv.calls.delete(id)) return;
    this.segment(inv, () => this.call(this.entry.settle, [id, reply.ok ? 1 : 0, reply.json, ...reply.buffers]));
  }
}

/** "request.read" (args: [invocation id, "cancel"?]): the next chunk of the invocation's own request body, null at its end. */
async function readRequest(inv: Invocation, args: unknown[]): Promise<Uint8Array | null> {
  if (args[0] !== inv.id || !inv.request) {
    throw Object.assign(new Error("Cannot read the request body of a different request"), { code: "CROSS_REQUEST_IO" });
  }
  if (args[1] === "cancel") { inv.request.cancel("the function cancelled the request body"); return null; }
  return inv.request.read();
}

function requestHeaders(h: Headers): [string, string][] {
  const headers: [string, string][] = [];
  h.forEach((v, k) => { if (k !== "set-cookie") headers.push([k, v]); });
  for (const c of h.getSetCookie()) headers.push(["set-cookie", c]);
  return headers;
}

function zeroStats() { return { cpuMs: 0, wallMs: 0, memoryBytes: 0 }; }

function endOf(inv: Invocation): InvocationEnd {
  return inv.body ? { cpuMs: inv.cpuMs, streamedBytes: inv.body.bytes } : { cpuMs: inv.cpuMs };
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * A fetch handler's response as data: its body as bytes, as text (what most
 * functions answer with: a Response made from a string, or Response.json), or
 * a `stream`, one at most; none for a null-body status. Text stays a string
 * until the HTTP server writes it: a string crosses between threads for less
 * than the bytes would (no buffer to allocate and clone) and is encoded once.
 */
export interface ResponseData {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: Uint8Array | string | null;
  stream?: ReadableStream<Uint8Array>;
}

function toResponseData(v: unknown, stream: () => ReadableStream<Uint8Array>): Outcome<unknown> {
  const r = v as { status: number; statusText: string; headers: [string, string][]; body: Uint8Array | string | null; stream?: boolean };
  const nullBody = NULL_BODY.has(r.status);
  const body = nullBody || r.stream ? null : r.body;
  const value: ResponseData = { status: r.status, statusText: r.statusText, headers: r.headers, body };
  if (!nullBody && r.stream) value.stream = stream();
  return { ok: true, value, stats: body !== null ? { ...zeroStats(), responseBytes: typeof body === "string" ? Buffer.byteLength(body) : body.byteLength } : zeroStats() };
}
