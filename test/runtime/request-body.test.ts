// A streamed request body in the sandbox, in process and on a sandbox thread:
// the guest pulls chunks on demand (a guest that reads one chunk leaves the
// source unread beyond a small window), what it leaves unread is cancelled
// when the invocation ends, the wall limit holds while it waits for a chunk,
// and the instance closes with no guest object left behind.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createRuntime, type FunctionInstance, type Runtime } from "../../runtime/index.ts";
import { STREAM_WINDOW } from "../../runtime/worker/protocol.ts";
import { fetchBundle, input, ROOMY } from "./helpers.ts";

const BUNDLE = fetchBundle(`async (req) => {
  const mode = new URL(req.url).pathname;
  if (mode === "/first") {
    const reader = req.body.getReader();
    const r = await reader.read();
    return Response.json({ first: r.value.byteLength });
  }
  if (mode === "/text") return new Response((await req.text()).length + "");
  if (mode === "/cancel") { await req.body.cancel("not wanted"); return new Response("cancelled"); }
  return new Response("ignored");
}`);

/** An endless body of 16 KiB chunks that counts what was pulled from it and says when it was cancelled. */
function endless(): { stream: ReadableStream<Uint8Array>; pulls: () => number; cancelled: Promise<unknown> } {
  let pulls = 0;
  let onCancel!: (reason: unknown) => void;
  const cancelled = new Promise((r) => { onCancel = r; });
  const stream = new ReadableStream<Uint8Array>({
    pull(c) { pulls++; c.enqueue(new Uint8Array(16 * 1024).fill(pulls & 0xff)); },
    cancel(reason) { onCancel(reason); },
  }, { highWaterMark: 0 });
  return { stream, pulls: () => pulls, cancelled };
}

/** A body that never produces a chunk. */
function silent(): { stream: ReadableStream<Uint8Array>; cancelled: Promise<unknown> } {
  let onCancel!: (reason: unknown) => void;
  const cancelled = new Promise((r) => { onCancel = r; });
  return { stream: new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}), cancel: (reason) => onCancel(reason) }, { highWaterMark: 0 }), cancelled };
}

const post = (path: string, body: ReadableStream<Uint8Array>) => ({ url: `http://localhost${path}`, method: "POST", headers: [] as [string, string][], body });

for (const threads of [0, 1]) {
  describe(`streamed request bodies, ${threads ? "on a sandbox thread" : "in process"}`, () => {
    let rt: Runtime;
    let inst: FunctionInstance;

    before(async () => {
      rt = await createRuntime({ threads });
      inst = await rt.load("reqbody", BUNDLE, { limits: ROOMY });
    });

    after(async () => {
      // in process, a guest object left behind fails the engine's own check when the runtime is freed
      await rt.close();
    });

    test("a guest reading one chunk leaves the source unread beyond a small window; the rest is cancelled at the end", async () => {
      const src = endless();
      const o = await inst.fetch(post("/first", src.stream), input({ limits: ROOMY }));
      assert.ok(o.ok, JSON.stringify(!o.ok && o.error));
      assert.deepEqual(await o.value.json(), { first: 16 * 1024 });
      await src.cancelled;
      // one read, plus at most a window on its way (a sandbox thread asks that far ahead)
      assert.ok(src.pulls() <= 1 + STREAM_WINDOW, `pulled ${src.pulls()} chunks`);
    });

    test("a guest that never touches its body: the source is cancelled when the invocation ends", async () => {
      for (let i = 0; i < 3; i++) {
        const src = endless();
        const o = await inst.fetch(post("/ignore", src.stream), input({ limits: ROOMY }));
        assert.ok(o.ok);
        assert.equal(await o.value.text(), "ignored");
        await src.cancelled;
      }
    });

    test("the guest cancelling its body cancels the source", async () => {
      const src = endless();
      const o = await inst.fetch(post("/cancel", src.stream), input({ limits: ROOMY }));
      assert.ok(o.ok);
      assert.equal(await o.value.text(), "cancelled");
      await src.cancelled;
    });

    test("text() reads a streamed body to its end", async () => {
      const parts = ["a".repeat(70_000), "b".repeat(10), "c".repeat(100_000)];
      const body = new ReadableStream<Uint8Array>({ start(c) { for (const p of parts) c.enqueue(new TextEncoder().encode(p)); c.close(); } });
      const o = await inst.fetch(post("/text", body), input({ limits: ROOMY }));
      assert.ok(o.ok);
      assert.equal(await o.value.text(), String(170_010));
    });

    test("the wall limit holds while the guest waits for a chunk that never comes", async () => {
      const src = silent();
      const o = await inst.fetch(post("/text", src.stream), input({ limits: { ...ROOMY, wallMs: 300 } }));
      assert.ok(!o.ok);
      assert.equal(o.error.kind, "wall");
      await src.cancelled;
      const next = await inst.fetch(post("/ignore", endless().stream), input({ limits: ROOMY }));
      assert.ok(next.ok, "the instance still serves");
    });
  });
}
