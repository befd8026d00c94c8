// Running the engine's pending jobs (promise reactions) without
// quickjs-emscripten's `runtime.executePendingJobs()`, which reads the last
// job's context pointer through a typed array made before the jobs ran: when a
// job grows the WASM memory (one large allocation after an `await`), that view
// is detached, the pointer reads as undefined, and the library makes a new
// context for it. Each such growth leaked a whole context, and freeing the
// runtime then aborted ("Assertion failed: list_empty(&rt->gc_obj_list)").
// Same C call here, with the pointer read through the memory as it is after.
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from "quickjs-emscripten-core";

/** The library's internals this needs (quickjs-emscripten-core 0.32). */
interface RuntimeInternals {
  rt: { value: number };
  ffi: {
    QTS_ExecutePendingJob(rt: number, maxJobs: number, lastJobContext: number): number;
    QTS_FreeValuePointerRuntime(rt: number, value: number): void;
  };
  module: { _malloc(bytes: number): number; _free(ptr: number): void };
}
interface ContextInternals {
  getMemory(rt: number): { heapValueHandle(ptr: number): QuickJSHandle };
}

/**
 * Run every pending job of `rt`, whose jobs all belong to `ctx`. Returns the
 * exception a job threw (a handle the caller disposes), or null.
 */
export function runPendingJobs(rt: QuickJSRuntime, ctx: QuickJSContext, memory: WebAssembly.Memory): QuickJSHandle | null {
  const r = rt as unknown as RuntimeInternals;
  const out = r.module._malloc(4);
  try {
    new Int32Array(memory.buffer, out, 1)[0] = 0;
    const value = r.ffi.QTS_ExecutePendingJob(r.rt.value, -1, out);
    // read now, through the memory's current buffer: the jobs may have grown it
    const last = new Int32Array(memory.buffer, out, 1)[0];
    if (last === 0) {
      r.ffi.QTS_FreeValuePointerRuntime(r.rt.value, value);
      return null;
    }
    const handle = (ctx as unknown as ContextInternals).getMemory(r.rt.value).heapValueHandle(value);
    if (ctx.typeof(handle) === "number") {
      handle.dispose();
      return null;
    }
    return handle;
  } finally {
    r.module._free(out);
  }
}
