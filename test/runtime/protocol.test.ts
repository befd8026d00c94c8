// The messages every request sends between the main thread and a sandbox
// thread travel packed as flat arrays (runtime/worker/protocol.ts): unpacked,
// each must be the message it was, whatever optional fields it had, and the
// rest travel as they are.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  packFromThread, packInvoke, packResult, packToThread, unpackFromThread, unpackInvoke, unpackResult, unpackToThread, type FromThread, type ToThread,
} from "../../runtime/worker/protocol.ts";

type Invoke = Extract<ToThread, { t: "invoke" }>;
type Result = Extract<FromThread, { t: "result" }>;

const limits = { cpuMs: 50, wallMs: 30_000, memoryMb: 64, subrequests: 50 };

test("a fetch invocation with a fetch head is packed and unpacked to the same message", () => {
  const cases: Invoke[] = [
    { t: "invoke", inv: 7, key: 3, kind: "fetch", request: { head: "h\u0001x", body: false }, input: { requestId: "r", env: {}, auth: null, console: false, limits } },
    { t: "invoke", inv: 8, key: 4, kind: "fetch", request: { head: "h", body: false, bytes: new Uint8Array([1, 2]) },
      input: { requestId: "r2", env: { A: "1" }, auth: { sub: "u" }, console: true, limits: { ...limits, concurrency: 4 } } },
    { t: "invoke", inv: 9, key: 5, kind: "fetch", request: { head: "h", body: true }, input: { requestId: "r3", env: { B: "" }, auth: null, console: true, limits } },
  ];
  for (const m of cases) {
    const p = packInvoke(m);
    assert.ok(Array.isArray(p));
    assert.deepEqual(unpackInvoke(structuredClone(p)), m);
  }
  // the rest go as they are
  assert.equal(packInvoke({ t: "invoke", inv: 1, key: 1, kind: "fetch", request: { url: "http://x/", method: "GET", headers: [], body: false }, input: cases[0].input }), null);
  assert.equal(packInvoke({ t: "invoke", inv: 1, key: 1, kind: "event", payload: { a: 1 }, input: cases[0].input }), null);
});

test("a fetch answer with a response is packed and unpacked to the same message", () => {
  const stats = { cpuMs: 0.08, wallMs: 0.12, memoryBytes: 1_234_567 };
  const cases: Result[] = [
    { t: "result", inv: 1, ok: true, response: { status: 200, statusText: "", headers: [["content-type", "application/json"]], body: false, text: "{}" }, stats: { ...stats, responseBytes: 2 } },
    { t: "result", inv: 2, ok: true, response: { status: 418, statusText: "teapot", headers: [["set-cookie", "a=1"], ["set-cookie", "b=2"], ["x-e", ""]], body: false, bytes: new Uint8Array([9]) }, stats: { ...stats, responseBytes: 1 }, ended: true, end: { cpuMs: 0.09 } },
    { t: "result", inv: 3, ok: true, response: { status: 200, statusText: "", headers: [], body: true }, stats },
    { t: "result", inv: 4, ok: true, response: { status: 204, statusText: "", headers: [], body: false }, stats, ended: true },
    { t: "result", inv: 5, ok: true, response: { status: 200, statusText: "", headers: [], body: true }, stats, ended: true, end: { cpuMs: 1.5, streamedBytes: 0 } },
  ];
  for (const m of cases) {
    const p = packResult(m);
    assert.ok(Array.isArray(p));
    assert.deepEqual(unpackResult(structuredClone(p)), m);
  }
  assert.equal(packResult({ t: "result", inv: 6, ok: true, value: { a: 1 }, stats }), null);
  assert.equal(packResult({ t: "result", inv: 7, ok: false, error: { kind: "threw", message: "x" }, stats }), null);
});

test("host calls and their replies are packed, and every other message travels as it is", () => {
  const toThread: ToThread[] = [
    { t: "hostReply", call: 3, ok: true, json: "[1]", buffers: [] },
    { t: "hostReply", call: 4, ok: false, json: "{\"message\":\"x\"}", buffers: [new Uint8Array([1]), new Uint8Array(0)] },
    { t: "invoke", inv: 7, key: 3, kind: "fetch", request: { head: "h", body: false }, input: { requestId: "r", env: {}, auth: null, console: false, limits } },
  ];
  for (const m of toThread) {
    const p = packToThread(m);
    assert.ok(Array.isArray(p));
    assert.deepEqual(unpackToThread(structuredClone(p)), m);
  }
  const fromThread: FromThread[] = [
    { t: "host", inv: 5, call: 9, name: "sql.query", json: "[\"select 1\",[],null]", buffers: [] },
    { t: "host", inv: 6, call: 10, name: "fetch", json: "[{}]", buffers: [new Uint8Array([7, 8])] },
    { t: "result", inv: 1, ok: true, response: { status: 200, statusText: "", headers: [], body: false, text: "" }, stats: { cpuMs: 1, wallMs: 2, memoryBytes: 3 } },
  ];
  for (const m of fromThread) {
    const p = packFromThread(m);
    assert.ok(Array.isArray(p));
    assert.deepEqual(unpackFromThread(structuredClone(p)), m);
  }
  const toAsIs: ToThread[] = [{ t: "close" }, { t: "credit", inv: 1, n: 2 }, { t: "unload", key: 3 },
    { t: "invoke", inv: 1, key: 1, kind: "event", payload: { a: 1 }, input: { requestId: "r", env: {}, auth: null, console: false, limits } }];
  for (const m of toAsIs) { assert.equal(packToThread(m), m); assert.equal(unpackToThread(m), m); }
  const fromAsIs: FromThread[] = [{ t: "ended", inv: 1, end: { cpuMs: 1 } }, { t: "dead", key: 1 },
    { t: "result", inv: 2, ok: true, value: 5, stats: { cpuMs: 1, wallMs: 1, memoryBytes: 1 } }];
  for (const m of fromAsIs) { assert.equal(packFromThread(m), m); assert.equal(unpackFromThread(m), m); }
});
