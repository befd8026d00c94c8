// QuickJS-ng (sync release build): one WASM module per function instance, so a
// memory limit is a hard cap on that module's linear memory and a broken
// instance is thrown away whole. The compiled WebAssembly.Module is shared;
// instantiating it costs a few ms, so bare modules are made ahead (see
// SparePool) and a prepared or loaded instance is restored into one from a
// memory snapshot (runtime/snapshot).
import { newQuickJSWASMModuleFromVariant, newVariant, type QuickJSSyncVariant, type QuickJSWASMModule } from "quickjs-emscripten-core";
import variant from "@jitl/quickjs-ng-wasmfile-release-sync";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

export const PAGE = 65536;
const MAX_PAGES = 32768;

/**
 * Memory layout of this build (read from the binary): static data, then the C
 * stack (5 MiB, growing down from the stack pointer's initial value), then the
 * heap. The build declares a 16 MiB minimum memory, but only the part below
 * the heap is needed to start, so the declared minimum is lowered to that
 * (the heap grows on demand as in any emscripten build).
 */
export interface Layout {
  /** Initial value of the stack pointer: the top of the C stack and the start of the heap. */
  stackTop: number;
  /** Pages a fresh module starts with. */
  minPages: number;
  /** Hash of the unmodified engine binary: a snapshot is valid only for the build that made it. */
  buildHash: string;
}

/**
 * Bytes of the C stack an instance can touch: QuickJS stops guest recursion at
 * MAX_STACK_BYTES (instance.ts), the host functions' frames come on top.
 * The rest of the stack region is never written and costs nothing.
 */
export const STACK_TOUCHED_BYTES = 256 * 1024;
/** Size of this build's C stack region (emscripten's STACK_SIZE). */
export const STACK_BYTES = 5 * 1024 * 1024;

export interface EngineModule {
  module: QuickJSWASMModule;
  memory: WebAssembly.Memory;
  /** Bytes the memory may reach before the guest counts as over its limit. */
  limitBytes: number;
  /**
   * Grow the memory to at least `bytes` the way the engine's own heap growth
   * does: emscripten's views of the memory are renewed with it (a bare
   * memory.grow would leave them on the old, detached buffer).
   */
  resize(bytes: number): boolean;
  /** Told when the memory refused to grow (the guest wanted more than its limit); set by the instance using the module. */
  onGrowFailed?: () => void;
  /** The instance this module serves has been restored into it before (its memory is no longer fresh). */
  used?: boolean;
  /**
   * The image the memory holds exactly, written ahead of need (off the request
   * path): a restore on top of it writes only what differs. Unset once used.
   */
  holds?: object;
}

let compiled: WebAssembly.Module | undefined;
let layout: Layout | undefined;

/** Use a module compiled elsewhere (a sandbox thread gets the main thread's) and its layout. */
export function useCompiledModule(m: WebAssembly.Module, l?: Layout): void {
  compiled = m;
  if (l) layout = l;
}

function wasmPath(): string {
  const require = createRequire(import.meta.url);
  const dir = path.dirname(require.resolve("@jitl/quickjs-ng-wasmfile-release-sync/package.json"));
  return path.join(dir, "dist", "emscripten-module.wasm");
}

/** Read an unsigned LEB128 at `p`; returns the value and the offset after it. */
function leb(b: Uint8Array, p: number): [number, number] {
  let v = 0, s = 0, x: number;
  do { x = b[p++]; v += (x & 0x7f) * 2 ** s; s += 7; } while (x & 0x80);
  return [v, p];
}

/**
 * Find the memory import's minimum and the (only) global's initial value.
 * Throws when the binary does not have the expected shape, so a different
 * build is noticed here rather than misread.
 */
function inspect(b: Uint8Array): { minAt: number; minLen: number; stackTop: number } {
  let p = 8;
  let minAt = -1, minLen = 0, stackTop = -1;
  while (p < b.length) {
    const id = b[p++];
    let size: number;
    [size, p] = leb(b, p);
    const end = p + size;
    if (id === 2) {
      let n: number, q = p;
      [n, q] = leb(b, q);
      for (let i = 0; i < n; i++) {
        let len: number;
        [len, q] = leb(b, q); q += len;
        [len, q] = leb(b, q); q += len;
        const kind = b[q++];
        if (kind === 0) [, q] = leb(b, q);
        else if (kind === 2) {
          const flags = b[q++];
          minAt = q;
          [, q] = leb(b, q);
          minLen = q - minAt;
          if (flags & 1) [, q] = leb(b, q);
        } else if (kind === 3) q += 2;
        else { q++; const flags = b[q++]; [, q] = leb(b, q); if (flags & 1) [, q] = leb(b, q); }
      }
    } else if (id === 6) {
      let n: number, q = p;
      [n, q] = leb(b, q);
      // i32, mutable, i32.const <v>: the stack pointer
      if (n === 1 && b[q] === 0x7f && b[q + 1] === 1 && b[q + 2] === 0x41) [stackTop] = leb(b, q + 3);
    }
    p = end;
  }
  if (minAt < 0 || stackTop < 0) throw new Error("the QuickJS engine binary does not have the expected layout (one memory import, one stack-pointer global)");
  return { minAt, minLen, stackTop };
}

/** The compiled QuickJS module, compiled once per process (sandbox threads are handed the main thread's). */
export function compiledModule(): WebAssembly.Module {
  if (!compiled) {
    const bytes = new Uint8Array(readFileSync(wasmPath()));
    const buildHash = createHash("sha256").update(bytes).digest("hex");
    const { minAt, minLen, stackTop } = inspect(bytes);
    const minPages = Math.ceil(stackTop / PAGE) + 4;
    // rewrite the minimum in place, padded to the same LEB128 length
    for (let i = 0, v = minPages; i < minLen; i++, v = Math.floor(v / 128)) bytes[minAt + i] = (v & 0x7f) | (i < minLen - 1 ? 0x80 : 0);
    layout = { stackTop, minPages, buildHash };
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/** Layout of the compiled build (compiles it when needed). */
export function engineLayout(): Layout {
  if (!layout) {
    if (compiled) throw new Error("useCompiledModule was given no layout");
    compiledModule();
  }
  return layout!;
}

/** Byte range of the C stack that no code reaches: never written, never read by snapshots. */
export function stackGap(): [number, number] {
  const { stackTop } = engineLayout();
  return [stackTop - STACK_BYTES, stackTop - STACK_TOUCHED_BYTES];
}

function pagesFor(memoryMb: number): number {
  return Math.min(MAX_PAGES, Math.max(engineLayout().minPages + 16, Math.ceil((memoryMb * 1024 * 1024) / PAGE)));
}

/**
 * Bytes an instance really holds: its memory minus the part of the C stack no
 * code ever reaches (never written, so never resident). The heap is counted to
 * its high-water mark (WASM memory grows with the heap and never shrinks).
 */
export function usedBytes(memory: WebAssembly.Memory): number {
  return memory.buffer.byteLength - (STACK_BYTES - STACK_TOUCHED_BYTES);
}

/**
 * Instantiate a fresh QuickJS module whose memory cannot grow past memoryMb;
 * `pages` starts it larger (a snapshot being restored needs its size).
 */
export async function newEngineModule(memoryMb: number, pages?: number): Promise<EngineModule> {
  const maximum = pagesFor(memoryMb);
  const initial = Math.max(engineLayout().minPages, pages ?? 0);
  if (initial > maximum) throw new RangeError(`${initial} pages do not fit a ${memoryMb} MiB instance`);
  const memory = new WebAssembly.Memory({ initial, maximum });
  let resize: ((bytes: number) => boolean) | undefined;
  const wasm = compiledModule();
  const module = await newQuickJSWASMModuleFromVariant(newVariant(variant as unknown as QuickJSSyncVariant, {
    wasmMemory: memory,
    emscriptenModule: {
      // the import the heap calls to grow memory ("emscripten_resize_heap"), kept so a restore can grow it the same way
      instantiateWasm(imports, onSuccess) {
        const env = imports.a as Record<string, unknown>;
        const grow = Object.values(env).find((f) => typeof f === "function" && /\.grow\(/.test(Function.prototype.toString.call(f)));
        resize = grow as typeof resize;
        const instance = new WebAssembly.Instance(wasm, imports);
        onSuccess(instance);
        return instance.exports;
      },
    },
  }));
  if (!resize) throw new Error("the QuickJS engine glue has no heap-growth import");
  const engine: EngineModule = { module, memory, limitBytes: maximum * PAGE, resize };
  const grow = memory.grow.bind(memory);
  memory.grow = (delta: number) => {
    try { return grow(delta); } catch (e) { engine.onGrowFailed?.(); throw e; }
  };
  return engine;
}

/** Bytes an engine module of this memory class may hold. */
export function limitBytesFor(memoryMb: number): number {
  return pagesFor(memoryMb) * PAGE;
}

/**
 * Keeps one ready spare per memory size, made off the request path (setImmediate)
 * right after the previous one is taken. What a spare is (a bare module, or a
 * module with its context and prelude already set up) is the maker's choice.
 */
export class SparePool<T> {
  private spares = new Map<number, Promise<T>>();
  private closed = false;

  constructor(private readonly make: (memoryMb: number) => Promise<T>, private readonly dispose: (spare: T) => Promise<void>) {}

  /** A ready spare (made now when none is waiting) and a refill scheduled behind it. */
  async take(memoryMb: number): Promise<T> {
    const spare = this.spares.get(memoryMb);
    this.spares.delete(memoryMb);
    const got = spare ? await spare.catch(() => this.make(memoryMb)) : await this.make(memoryMb);
    this.refill(memoryMb);
    return got;
  }

  /** Prepare a spare for this memory size (no-op when one is ready). */
  refill(memoryMb: number): void {
    if (this.closed || this.spares.has(memoryMb)) return;
    const p = new Promise<T>((resolve, reject) => {
      setImmediate(() => (this.closed ? reject(new Error("closed")) : this.make(memoryMb).then(resolve, reject)));
    });
    p.catch(() => this.spares.delete(memoryMb));
    this.spares.set(memoryMb, p);
  }

  /** Dispose the waiting spares; safe twice. */
  async close(): Promise<void> {
    this.closed = true;
    const waiting = [...this.spares.values()];
    this.spares.clear();
    for (const r of await Promise.allSettled(waiting)) if (r.status === "fulfilled") await this.dispose(r.value);
  }
}
