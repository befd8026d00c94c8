// What an invocation reports about its response, in process and on a sandbox
// thread: a buffered body's size with the result; a streamed body's bytes and
// the whole invocation's CPU time when it is over (the ledger records those).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRuntime } from "../../runtime/index.ts";
import type { InvocationEnd } from "../../runtime/types.ts";
import { ROOMY, input, fetchBundle, req } from "./helpers.ts";

const GUEST = fetchBundle(`async (request) => {
  if (new URL(request.url).pathname === "/buffered") return new Response("héllo");
  const enc = new TextEncoder();
  let n = 0;
  return new Response(new ReadableStream({
    pull(c) {
      // each chunk costs guest CPU time while the response streams
      let x = 0;
      for (let i = 0; i < 20000; i++) x += i % 7;
      if (n < 5) c.enqueue(enc.encode("chunk " + n++ + " " + (x % 10) + "\\n")); else c.close();
    },
  }));
}`);

for (const threads of [0, 1]) {
  const where = threads ? "sandbox thread" : "same thread";
  test(`a buffered body's size comes with the result; a streamed body's bytes and CPU time come with its end (${where})`, async (t) => {
    const rt = await createRuntime({ threads });
    t.after(() => rt.close());
    const inst = await rt.load(`end-${threads}`, GUEST, { limits: ROOMY });

    let ends: (InvocationEnd | undefined)[] = [];
    let over!: () => void;
    let ended = new Promise<void>((r) => (over = r));
    const onEnd = (e?: InvocationEnd) => { ends.push(e); over(); };

    const b = await inst.fetch(req("/buffered"), input({ limits: ROOMY, onEnd }));
    assert.ok(b.ok, JSON.stringify(!b.ok && b.error));
    assert.equal(b.stats.responseBytes, Buffer.byteLength("héllo"));
    assert.equal(await b.value.text(), "héllo");
    await ended;
    assert.equal(ends.length, 1);
    assert.equal(ends[0]?.streamedBytes, undefined);

    ends = [];
    ended = new Promise<void>((r) => (over = r));
    const s = await inst.fetch(req("/streamed"), input({ limits: ROOMY, onEnd }));
    assert.ok(s.ok, JSON.stringify(!s.ok && s.error));
    assert.equal(s.stats.responseBytes, undefined);
    const text = await s.value.text();
    assert.match(text, /^chunk 0 \d\nchunk 1/);
    await ended;
    assert.equal(ends.length, 1);
    assert.equal(ends[0]?.streamedBytes, Buffer.byteLength(text));
    // the CPU time spent producing the chunks after the response head is counted too
    assert.ok(ends[0]!.cpuMs > s.stats.cpuMs, `whole ${ends[0]!.cpuMs} ms > at the head ${s.stats.cpuMs} ms`);
  });
}
