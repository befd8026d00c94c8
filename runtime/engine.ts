// QuickJS-ng (sync release build): one WASM module per function instance, so a
// memory limit is a hard cap on that module's linear memory and a broken
// instance is thrown away whole. The compiled WebAssembly.Module is shared;
// instantiating it costs a few ms, so spares are prepared ahead (see SparePool).
import { newQuickJSWASMModuleFromVariant, newVariant, type QuickJSSyncVariant, type QuickJSWASMModule } from "quickjs-emscripten-core";
import variant from "@jitl/quickjs-ng-wasmfile-release-sync";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const PAGE = 65536;
/** The build's initial heap (16 MiB); its memory may not start smaller. */
const MIN_PAGES = 256;
const MAX_PAGES = 32768;

export interface EngineModule {
  module: QuickJSWASMModule;
  memory: WebAssembly.Memory;
  /** Bytes the memory may reach before the guest counts as over its limit. */
  limitBytes: number;
}

let compiled: WebAssembly.Module | undefined;

/** Use a module compiled elsewhere (a sandbox thread gets the main thread's). */
export function useCompiledModule(m: WebAssembly.Module): void {
  compiled = m;
}

/** The compiled QuickJS module, compiled once per process (sandbox threads are handed the main thread's). */
export function compiledModule(): WebAssembly.Module {
  if (!compiled) {
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve("@jitl/quickjs-ng-wasmfile-release-sync/package.json"));
    compiled = new WebAssembly.Module(readFileSync(path.join(dir, "dist", "emscripten-module.wasm")));
  }
  return compiled;
}

function pagesFor(memoryMb: number): number {
  return Math.min(MAX_PAGES, Math.max(MIN_PAGES + 16, Math.ceil((memoryMb * 1024 * 1024) / PAGE)));
}

/** Instantiate a fresh QuickJS module whose memory cannot grow past memoryMb. */
export async function newEngineModule(memoryMb: number): Promise<EngineModule> {
  const maximum = pagesFor(memoryMb);
  const memory = new WebAssembly.Memory({ initial: MIN_PAGES, maximum });
  const module = await newQuickJSWASMModuleFromVariant(newVariant(variant as unknown as QuickJSSyncVariant, { wasmModule: compiledModule(), wasmMemory: memory }));
  return { module, memory, limitBytes: maximum * PAGE };
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
