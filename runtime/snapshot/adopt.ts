// The engine-side values of a QuickJS runtime and context that live outside
// WASM memory: quickjs-emscripten's wrapper objects (runtime and context
// pointers, the static handles a context caches, the host-function registry
// keyed by id). `describe` reads them from a live context; `adopt` builds new
// wrappers around the same pointers in a module whose memory was restored.
// This reaches into quickjs-emscripten-core 0.32's private fields; the shapes
// are checked here so a changed library fails loudly, not subtly.
import { randomBytes } from "node:crypto";
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from "quickjs-emscripten-core";

export class SnapshotRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SnapshotRefused";
  }
}

/** What a context's wrapper holds besides WASM memory. */
export interface EngineState {
  rt: number;
  ctx: number;
  /** The context's cached global-object handle (a JSValue* in the heap). */
  global: number;
  /** The context's scratch word (malloc'd by the wrapper): freed when a new wrapper makes its own. */
  scratch: number;
  /** Host functions by registry id: [id, native name]. */
  refs: [number, string][];
  refNext: number;
  refFree: number[];
}

interface HostRefMapShape { nextId: number; freelist: number[]; groups: Map<number, Map<number, unknown>>; put(v: unknown): number }
interface RuntimeShape { hostRefs: HostRefMapShape; rt: { value: number } }
interface ContextShape {
  ctx: { value: number };
  _global?: QuickJSHandle;
  _BigInt?: unknown; _Symbol?: unknown; _SymbolIterator?: unknown; _SymbolAsyncIterator?: unknown;
  uint32Out: { value: { ptr: number } };
  memory: { heapValueHandle(ptr: number): QuickJSHandle; staticHeapValueHandle(ptr: number): QuickJSHandle };
}
interface ModuleShape { ffi: { QTS_NewRuntime(): number }; module: { _free(ptr: number): void } }

function shape<T>(o: unknown, keys: string[], what: string): T {
  for (const k of keys) if (!(k in (o as object))) throw new SnapshotRefused(`quickjs-emscripten ${what} has no "${k}": snapshots need the 0.32 internals`);
  return o as T;
}

/** Read the wrapper state of a context; `names` maps each native function to its name. */
export function describe(rt: QuickJSRuntime, ctx: QuickJSContext, names: Map<unknown, string>): EngineState {
  const r = shape<RuntimeShape>(rt, ["hostRefs", "rt"], "QuickJSRuntime");
  const c = shape<ContextShape>(ctx, ["ctx", "uint32Out", "memory", "_global"], "QuickJSContext");
  if (c._BigInt || c._Symbol || c._SymbolIterator || c._SymbolAsyncIterator) throw new SnapshotRefused("the context cached a handle snapshots do not carry");
  const refs: [number, string][] = [];
  for (const group of r.hostRefs.groups.values()) {
    for (const [id, fn] of group) {
      const name = names.get(fn);
      if (name === undefined) throw new SnapshotRefused(`host reference ${id} is not one of the natives`);
      refs.push([id, name]);
    }
  }
  return {
    rt: r.rt.value,
    ctx: c.ctx.value,
    global: c._global?.value as number ?? 0,
    scratch: c.uint32Out.value.ptr,
    refs,
    refNext: r.hostRefs.nextId,
    refFree: [...r.hostRefs.freelist],
  };
}

/**
 * New runtime and context wrappers around the pointers in `s`, in a module
 * whose memory holds them; `register` then puts the natives back under the ids
 * the context's function objects carry.
 */
export function adopt(module: QuickJSWASMModule, s: EngineState): {
  rt: QuickJSRuntime; ctx: QuickJSContext; handle(ptr: number): QuickJSHandle; register(natives: Record<string, unknown>): void;
} {
  const m = shape<ModuleShape>(module, ["ffi", "module"], "QuickJSWASMModule");
  const make = m.ffi.QTS_NewRuntime;
  m.ffi.QTS_NewRuntime = () => s.rt;
  let rt: QuickJSRuntime;
  try {
    rt = module.newRuntime();
  } finally {
    m.ffi.QTS_NewRuntime = make;
  }
  const ctx = rt.newContext({ contextPointer: s.ctx as never });
  const c = ctx as unknown as ContextShape;
  // the new wrapper allocated its own scratch word; the snapshot's is garbage now
  m.module._free(s.scratch);
  if (s.global) c._global = c.memory.staticHeapValueHandle(s.global);
  const register = (natives: Record<string, unknown>) => {
    const refs = (rt as unknown as RuntimeShape).hostRefs;
    for (const [id, name] of s.refs) {
      const fn = natives[name];
      if (typeof fn !== "function") throw new SnapshotRefused(`the snapshot names a native "${name}" this build does not have`);
      refs.freelist = [];
      refs.nextId = id;
      if (refs.put(fn) !== id) throw new SnapshotRefused("quickjs-emscripten host references are not allocated as expected");
    }
    refs.nextId = s.refNext;
    refs.freelist = [...s.refFree];
  };
  return { rt, ctx, handle: (ptr) => c.memory.heapValueHandle(ptr), register };
}

// ---- Math.random ----
// QuickJS keeps Math.random's xorshift64* state in the context, seeded when the
// context is made: every instance restored from one snapshot would draw the
// same numbers. The state's offset in the context is found once (by the
// transition one Math.random() makes) and a restore writes a fresh seed there.

const M64 = (1n << 64n) - 1n;
function xorshift(x: bigint): bigint {
  x ^= x >> 12n;
  x ^= (x << 25n) & M64;
  x ^= x >> 27n;
  return x;
}
function draw(state: bigint): number {
  const v = (xorshift(state) * 0x2545f4914f6cdd1dn) & M64;
  const buf = new DataView(new ArrayBuffer(8));
  buf.setBigUint64(0, (0x3ffn << 52n) | (v >> 12n), true);
  return buf.getFloat64(0, true) - 1;
}

const SCAN = 4096;

function random(ctx: QuickJSContext): number {
  const r = ctx.evalCode("Math.random()");
  if (r.error) { r.error.dispose(); throw new SnapshotRefused("Math.random() failed"); }
  return r.value.consume((h) => ctx.getNumber(h));
}

/** Offset of Math.random's state from the context pointer; throws when it cannot be found for certain. */
export function findRandomState(ctx: QuickJSContext, memory: WebAssembly.Memory, ctxPtr: number): number {
  const read = () => { const v = new DataView(memory.buffer); return Array.from({ length: SCAN / 8 }, (_, i) => v.getBigUint64(ctxPtr + i * 8, true)); };
  const before = read();
  random(ctx);
  const after = read();
  const found = before.flatMap((b, i) => (b !== 0n && after[i] === xorshift(b) ? [i * 8] : []));
  for (const off of found) {
    const seed = 0x9e3779b97f4a7c15n;
    new DataView(memory.buffer).setBigUint64(ctxPtr + off, seed, true);
    if (random(ctx) === draw(seed)) return off;
  }
  throw new SnapshotRefused("could not locate Math.random's state in the QuickJS context");
}

/** Give a restored context its own Math.random sequence. */
export function reseed(memory: WebAssembly.Memory, ctxPtr: number, offset: number): void {
  let seed = 0n;
  while (seed === 0n) seed = randomBytes(8).readBigUInt64LE(0);
  new DataView(memory.buffer).setBigUint64(ctxPtr + offset, seed, true);
}
