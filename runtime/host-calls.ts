// Guest -> host function calls without quickjs-emscripten's generator path.
//
// The library runs every call of a host function (`ctx.newFunction`) through
// `Scope.withScopeMaybeAsync`: a Scope, a Set, two generators and a promise
// check per call, written for asyncified builds. We run the sync build only,
// and those objects cost more than their time: they keep each other alive
// across young-generation collections (a collected generator still in old
// space holds the next call's objects), so about 270 bytes per call were
// promoted and only freed by a full collection (measured: 200,000 calls of a
// one-native guest function, `--trace-gc-nvp`: 275 -> 19 bytes promoted per
// call). This callback does what the library's does, in one plain frame:
// `this` and the arguments as weak handles that die when the call returns,
// the result handle duplicated for the engine and disposed, an exception
// thrown into the guest as an Error.
//
// It reaches into quickjs-emscripten-core 0.32's private fields (as
// snapshot/adopt.ts does); their shape is checked so a changed library fails
// loudly at instance creation, not subtly.
import { Lifetime, WeakLifetime, type QuickJSContext, type QuickJSHandle } from "quickjs-emscripten-core";

interface ContextInternals {
  ctx: { value: number };
  runtime: object;
  ffi: { QTS_ArgvGetJSValueConstPointer(argv: number, i: number): number; QTS_DupValuePointer(ctx: number, value: number): number; QTS_Throw(ctx: number, error: number): number };
  memory: { copyJSValue: (v: number) => number; freeJSValue: (v: number) => void };
  cToHostCallbacks: { callFunction: (ctx: number, thisPtr: number, argc: number, argv: number, fnId: number) => number };
  getFunction(fnId: number): (this: QuickJSHandle, ...args: QuickJSHandle[]) => unknown;
  errorToHandle(error: unknown): QuickJSHandle;
}

const KEYS = ["ctx", "runtime", "ffi", "memory", "cToHostCallbacks", "getFunction", "errorToHandle"] as const;

/** Replace `ctx`'s host-function dispatch with the lean one; safe to call twice. */
export function leanHostCalls(ctx: QuickJSContext): void {
  const c = ctx as unknown as ContextInternals;
  for (const k of KEYS) if (!(k in c)) throw new Error(`quickjs-emscripten's context has no "${k}": runtime/host-calls.ts needs the 0.32 internals`);
  const { ffi, memory, runtime } = c;
  const weak = (ptr: number) => new WeakLifetime(ptr, memory.copyJSValue, memory.freeJSValue, runtime as never) as unknown as QuickJSHandle;
  c.cToHostCallbacks.callFunction = (ctxPtr, thisPtr, argc, argv, fnId) => {
    if (ctxPtr !== c.ctx.value) throw new Error("QuickJSContext instance received C -> JS call with mismatched ctx");
    const self = weak(thisPtr);
    const args = new Array<QuickJSHandle>(argc);
    for (let i = 0; i < argc; i++) args[i] = weak(ffi.QTS_ArgvGetJSValueConstPointer(argv, i));
    try {
      const result = c.getFunction(fnId).apply(self, args) as QuickJSHandle | { error?: QuickJSHandle; value?: QuickJSHandle } | undefined;
      if (!result) return 0;
      if (result instanceof Promise) throw new TypeError("a host function of the sync engine returned a promise");
      if (!(result instanceof Lifetime) && "error" in result && result.error) throw result.error;
      const handle = (result instanceof Lifetime ? result : result.value) as QuickJSHandle;
      try {
        return ffi.QTS_DupValuePointer(c.ctx.value, handle.value);
      } finally {
        if (handle.alive) handle.dispose();
      }
    } catch (error) {
      return c.errorToHandle(error).consume((h) => ffi.QTS_Throw(c.ctx.value, h.value));
    } finally {
      // as the library's scope does: a handle kept past the call is dead, never a dangling pointer
      self.dispose();
      for (const a of args) a.dispose();
    }
  };
}
