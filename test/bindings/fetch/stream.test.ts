// Streamed fetch bodies on the host: what is buffered comes at once, the rest
// chunk by chunk; the byte cap and idle timeout hold per read; the
// invocation's end cancels the upstream body.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BodyStreams } from "../../../host/bindings/fetch/stream.ts";

const bytes = (n: number, v = 1) => new Uint8Array(n).fill(v);

/** A stream whose chunks are released by hand; `cancelled` resolves with the cancel reason. */
function gated() {
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  let onCancel!: (r: unknown) => void;
  const cancelled = new Promise((r) => { onCancel = r; });
  const stream = new ReadableStream<Uint8Array>({ start(c) { ctrl = c; }, cancel(r) { onCancel(r ?? "cancelled"); } });
  return { stream, push: (b: Uint8Array) => ctrl.enqueue(b), close: () => ctrl.close(), cancelled };
}

test("a body already complete comes whole, without a stream id", async () => {
  const s = new BodyStreams({ maxResponseBytes: 1000, timeoutMs: 1000 });
  const g = gated();
  g.push(bytes(3)); g.push(bytes(4)); g.close();
  const r = await s.start(g.stream.getReader(), "h", new AbortController().signal);
  assert.equal(r.bodyStream, undefined);
  assert.equal(r.body.byteLength, 7);
});

test("a body still arriving: its start now, the rest read chunk by chunk, then null", async () => {
  const s = new BodyStreams({ maxResponseBytes: 1000, timeoutMs: 5000 });
  const g = gated();
  g.push(bytes(2));
  const r = await s.start(g.stream.getReader(), "h", new AbortController().signal);
  assert.equal(r.body.byteLength, 2);
  assert.equal(typeof r.bodyStream, "number");
  const next = s.read(r.bodyStream!);
  g.push(bytes(5, 9));
  assert.deepEqual([...(await next)!], [9, 9, 9, 9, 9]);
  g.close();
  assert.equal(await s.read(r.bodyStream!), null);
  await assert.rejects(s.read(r.bodyStream!), /closed/);
});

test("the byte cap holds across reads, and cancels the upstream", async () => {
  const s = new BodyStreams({ maxResponseBytes: 10, timeoutMs: 5000 });
  const g = gated();
  g.push(bytes(6));
  const r = await s.start(g.stream.getReader(), "h", new AbortController().signal);
  const next = s.read(r.bodyStream!);
  g.push(bytes(6));
  await assert.rejects(next, (e: Error & { code?: string }) => e.code === "RESPONSE_TOO_LARGE");
  await g.cancelled;
});

test("a read that waits past the idle timeout fails and cancels", async () => {
  const s = new BodyStreams({ maxResponseBytes: 1000, timeoutMs: 50 });
  const g = gated();
  g.push(bytes(1));
  const r = await s.start(g.stream.getReader(), "h", new AbortController().signal);
  await assert.rejects(s.read(r.bodyStream!), (e: Error & { code?: string }) => e.code === "FETCH_TIMEOUT");
  await g.cancelled;
});

test("the invocation's end cancels an open body", async () => {
  const s = new BodyStreams({ maxResponseBytes: 1000, timeoutMs: 5000 });
  const g = gated();
  g.push(bytes(1));
  const ac = new AbortController();
  const r = await s.start(g.stream.getReader(), "h", ac.signal);
  ac.abort();
  await g.cancelled;
  await assert.rejects(s.read(r.bodyStream!), /closed/);
});
