// A job (the code after an `await`) that grows the engine's memory: before
// runtime/jobs.ts, quickjs-emscripten read the job's context through a view
// of the memory from before the growth and made (and leaked) a new context
// each time, so closing the instance aborted on the leaked objects.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRuntime } from "../../runtime/index.ts";
import { ROOMY, fetchBundle, input, req } from "./helpers.ts";

for (const threads of [0, 1]) {
  test(`memory grown after an await: the invocation answers and the instance closes cleanly (${threads ? "sandbox thread" : "same thread"})`, async () => {
    const rt = await createRuntime({ threads });
    const inst = await rt.load("grow", fetchBundle(`async () => {
      const keep = [];
      for (let i = 0; i < 6; i++) { await null; keep.push(new Uint8Array(2 * 1024 * 1024)); }
      return new Response(String(keep.reduce((n, b) => n + b.byteLength, 0)));
    }`), { limits: ROOMY });
    for (let i = 0; i < 3; i++) {
      const o = await inst.fetch(req("/"), input({ limits: ROOMY }));
      assert.ok(o.ok, JSON.stringify(!o.ok && o.error));
      assert.equal(await o.value.text(), String(12 * 1024 * 1024));
    }
    await rt.evict("grow");
    await rt.close();
  });
}
