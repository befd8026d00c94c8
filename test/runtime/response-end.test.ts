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

const BODIES = fetchBundle(`async (request) => {
  const path = new URL(request.url).pathname;
  if (path === "/no-type") { const r = new Response("plain"); r.headers.delete("content-type"); return r; }
  if (path === "/json") return Response.json({ s: "\\u00e9\\ud83d\\ude00" });
  return new Response(new Uint8Array([0, 255, 1]), { headers: { "x-kind": "bytes" } });
}`);

for (const threads of [0, 1]) {
  const where = threads ? "sandbox thread" : "same thread";
  test(`text and byte bodies reach the host as the guest made them, content type included (${where})`, async (t) => {
    const rt = await createRuntime({ threads });
    t.after(() => rt.close());
    const inst = await rt.load(`bodies-${threads}`, BODIES, { limits: ROOMY });
    const body = async (path: string) => {
      const o = await inst.fetch(req(path), input({ limits: ROOMY }));
      assert.ok(o.ok, JSON.stringify(!o.ok && o.error));
      return { res: o.value, bytes: o.stats.responseBytes };
    };
    // a text body whose content type the guest removed gets none added by the host
    const plain = await body("/no-type");
    assert.equal(plain.res.headers.get("content-type"), null);
    assert.equal(await plain.res.text(), "plain");
    const json = await body("/json");
    assert.equal(json.res.headers.get("content-type"), "application/json");
    assert.deepEqual(await json.res.json(), { s: "é😀" });
    assert.equal(json.bytes, Buffer.byteLength(JSON.stringify({ s: "é😀" })));
    const bytes = await body("/bytes");
    assert.equal(bytes.res.headers.get("x-kind"), "bytes");
    assert.deepEqual([...new Uint8Array(await bytes.res.arrayBuffer())], [0, 255, 1]);
    assert.equal(bytes.bytes, 3);
  });
}

// Empty chunks, chunks ready at once and chunks that wait on a timer, in one stream: every byte arrives in order,
// the ready ones together, and a waiting one is not held back for the next.
const MIXED = fetchBundle(`async (request) => {
  const enc = new TextEncoder();
  const plan = ["", "", "a", "", "b", "c", "wait", "d", "", "e", "wait", "wait", "f"];
  let i = 0;
  return new Response(new ReadableStream({
    async pull(c) {
      const step = plan[i++];
      if (step === undefined) return c.close();
      if (step === "wait") { await new Promise((r) => setTimeout(r, 5)); c.enqueue(enc.encode("-")); return; }
      c.enqueue(enc.encode(step));
    },
  }));
}`);

for (const threads of [0, 1]) {
  const where = threads ? "sandbox thread" : "same thread";
  test(`a streamed body with empty chunks and waiting chunks arrives whole and in order (${where})`, async (t) => {
    const rt = await createRuntime({ threads });
    t.after(() => rt.close());
    const inst = await rt.load(`mixed-${threads}`, MIXED, { limits: ROOMY });
    const o = await inst.fetch(req("/"), input({ limits: ROOMY }));
    assert.ok(o.ok, JSON.stringify(!o.ok && o.error));
    const reader = o.value.body!.getReader();
    const dec = new TextDecoder();
    const reads: string[] = [];
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      reads.push(dec.decode(r.value));
    }
    assert.equal(reads.join(""), "abc-de--f");
    // the first chunk goes out alone, the rest in at most as many reads as chunks
    assert.equal(reads[0], "a");
    assert.ok(reads.length <= 8, reads.join("|"));
  });
}
