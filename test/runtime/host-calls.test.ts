// The lean guest -> host call path (runtime/host-calls.ts) keeps the library's
// contract: arguments and `this` arrive as handles that die when the call
// returns, a returned handle reaches the guest and is freed on the host side,
// a thrown error (or an { error } result) is thrown into the guest, and
// nothing leaks (QuickJS aborts a runtime freed with live objects).
import { test } from "node:test";
import assert from "node:assert/strict";
import { newQuickJSWASMModuleFromVariant, type QuickJSHandle, type QuickJSSyncVariant } from "quickjs-emscripten-core";
import variant from "@jitl/quickjs-ng-wasmfile-release-sync";
import { leanHostCalls } from "../../runtime/host-calls.ts";

test("host functions called through the lean path: values, this, errors, dead handles after the call", async () => {
  const mod = await newQuickJSWASMModuleFromVariant(variant as unknown as QuickJSSyncVariant); // the engine's build (runtime/engine.ts)
  const rt = mod.newRuntime();
  const ctx = rt.newContext();
  leanHostCalls(ctx);
  leanHostCalls(ctx); // twice is harmless
  let kept: QuickJSHandle | undefined;
  const fns: Record<string, (this: QuickJSHandle, ...args: QuickJSHandle[]) => QuickJSHandle | { error: QuickJSHandle } | void> = {
    add: (a, b) => ctx.newNumber(ctx.getNumber(a) + ctx.getNumber(b)),
    keep: (a) => { kept = a; },
    nothing: () => undefined,
    obj: (n) => { const o = ctx.newObject(); ctx.setProp(o, "n", n); return o; },
    fails: () => { throw new RangeError("host said no"); },
    errorResult: () => ({ error: ctx.newError("as a result") }),
  };
  // reads this.greeting
  fns.greet = function (this: QuickJSHandle, name) {
    const g = ctx.getProp(this, "greeting");
    try { return ctx.newString(`${ctx.getString(g)}, ${ctx.getString(name)}`); } finally { g.dispose(); }
  };
  for (const [name, fn] of Object.entries(fns)) ctx.newFunction(name, fn).consume((h) => ctx.setProp(ctx.global, name, h));

  const run = (code: string) => {
    const r = ctx.evalCode(code);
    if (r.error) { const e = ctx.dump(r.error); r.error.dispose(); throw new Error(JSON.stringify(e)); }
    const v = ctx.dump(r.value);
    r.value.dispose();
    return v;
  };
  assert.equal(run("add(2, 40)"), 42);
  assert.equal(run(`({ greeting: "hi", greet }).greet("ana")`), "hi, ana");
  assert.equal(run("nothing()"), undefined);
  assert.deepEqual(run(`try { fails(); "no" } catch (e) { [e.name, e.message, e instanceof Error] }`), ["RangeError", "host said no", true]);
  assert.deepEqual(run(`try { errorResult(); "no" } catch (e) { e.message }`), "as a result");
  // an argument handle kept by the host dies with the call: using it later fails on the host, never reads freed memory
  run(`keep({ big: "x".repeat(1000) })`);
  assert.ok(kept && !kept.alive);
  assert.throws(() => ctx.getProp(kept!, "big"));
  // many calls: no handle or object left behind (the runtime's free below would abort)
  assert.equal(run(`let s = 0; for (let i = 0; i < 10000; i++) s = add(s, obj(1).n); s`), 10000);
  ctx.dispose();
  rt.dispose();
});
