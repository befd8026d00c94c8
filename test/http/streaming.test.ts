// Streamed bodies end to end through a real port: an SSE function's first
// event reaches the client before its last is produced, a client that goes
// away cancels the guest's stream, an OpenAI-style streaming proxy relays an
// upstream's events as they come, and a multipart upload of several files
// reaches the guest whole. Ordering is forced with signals, never timed: the
// guest (or upstream) waits for a release the test gives only after it has
// received the earlier chunk.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type Server, type ServerResponse } from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { createPgDatabase, dropPgDatabase, queryOnce } from "../helpers/db.ts";
import { waitFor } from "../helpers/wait.ts";

const FUNCTIONS: Record<string, string> = {
  // Hono-streamSSE-like: events from a ReadableStream; the second waits for the test's release
  "sse.ts": `export default { async fetch(req: Request) {
    const signal = new URL(req.url).searchParams.get("signal")!;
    const enc = new TextEncoder();
    let step = 0;
    const body = new ReadableStream({
      async pull(c) {
        if (step === 0) c.enqueue(enc.encode("event: first\\ndata: 1\\n\\n"));
        else if (step === 1) { const r = await fetch(signal); c.enqueue(enc.encode("event: second\\ndata: " + (await r.text()) + "\\n\\n")); }
        else c.close();
        step++;
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  } };`,
  // never ends by itself: the client leaves, and the guest's cancel says so
  "endless.ts": `export default { async fetch(req: Request, env: unknown, ctx: { waitUntil(p: Promise<unknown>): void }) {
    const signal = new URL(req.url).searchParams.get("signal")!;
    let n = 0;
    return new Response(new ReadableStream({
      async pull(c) { await new Promise((r) => setTimeout(r, 5)); c.enqueue(new TextEncoder().encode("tick " + n++ + "\\n")); },
      cancel(reason) { ctx.waitUntil(fetch(signal + "?reason=" + encodeURIComponent(String(reason)))); },
    }));
  } };`,
  // OpenAI-style streaming proxy: upstream SSE relayed through a TransformStream
  "proxy.ts": `export default { async fetch(req: Request) {
    const upstream = new URL(req.url).searchParams.get("upstream")!;
    const res = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ stream: true }) });
    let buf = "";
    const dec = new TextDecoder();
    const enc = new TextEncoder();
    const relay = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, c) {
        buf += dec.decode(chunk, { stream: true });
        let i;
        while ((i = buf.indexOf("\\n\\n")) >= 0) {
          const line = buf.slice(0, i); buf = buf.slice(i + 2);
          const data = line.replace(/^data: /, "");
          if (data === "[DONE]") { c.enqueue(enc.encode("data: [DONE]\\n\\n")); continue; }
          const token = JSON.parse(data).choices[0].delta.content;
          c.enqueue(enc.encode("data: " + JSON.stringify({ token }) + "\\n\\n"));
        }
      },
    });
    return new Response(res.body!.pipeThrough(relay), { headers: { "content-type": "text/event-stream" } });
  } };`,
  "plain.ts": `export default { fetch: () => new Response("plain") };`,
  "upload.ts": `export default { async fetch(req: Request) {
    const form = await req.formData();
    const files = [];
    for (const f of form.getAll("files") as File[]) {
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await f.arrayBuffer()));
      files.push({ name: f.name, type: f.type, size: f.size, sha256: [...digest].map((b) => b.toString(16).padStart(2, "0")).join("") });
    }
    return Response.json({ note: form.get("note"), files });
  } };`,
};

/** A loopback server for signals and the fake upstream; `release(name)` answers the request waiting on /signal/<name>. */
class Loopback {
  server!: Server;
  url = "";
  private waiting = new Map<string, ServerResponse>();
  private released = new Map<string, string>();
  private seen = new Map<string, (q: string) => void>();
  private seenValues = new Map<string, string>();
  upstreamGate: (() => void) | null = null;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const u = new URL(req.url!, "http://x");
      const [, kind, name] = u.pathname.split("/");
      if (kind === "signal") {
        if (this.released.has(name)) res.end(this.released.get(name));
        else this.waiting.set(name, res);
      } else if (kind === "seen") {
        this.seenValues.set(name, u.search);
        this.seen.get(name)?.(u.search);
        res.end("ok");
      } else if (kind === "upstream") {
        // two tokens; the second only after the test has read the first through the proxy
        res.writeHead(200, { "content-type": "text/event-stream" });
        const ev = (t: string) => `data: ${JSON.stringify({ choices: [{ delta: { content: t } }] })}\n\n`;
        res.write(ev("Hello"));
        this.upstreamGate = () => { res.write(ev(" world")); res.end("data: [DONE]\n\n"); };
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  release(name: string, body: string): void {
    this.released.set(name, body);
    this.waiting.get(name)?.end(body);
    this.waiting.delete(name);
  }

  /** Resolves with the query of the first /seen/<name> request. */
  seenOnce(name: string): Promise<string> {
    if (this.seenValues.has(name)) return Promise.resolve(this.seenValues.get(name)!);
    return new Promise((r) => this.seen.set(name, r));
  }

  async close(): Promise<void> {
    for (const res of this.waiting.values()) res.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

let dbUrl: string;
let dir: string;
let server: ServerProcess;
const loop = new Loopback();

before(async () => {
  await loop.start();
  dbUrl = await createPgDatabase();
  dir = await mkdtemp(join(tmpdir(), "hangar-stream-"));
  for (const [file, src] of Object.entries(FUNCTIONS)) await writeFile(join(dir, file), src);
  const env = { DATABASE_URL: dbUrl, HANGAR_ADMIN_TOKEN: "admin-token", HANGAR_SECRET_KEY: "secret-key", HANGAR_FETCH_ALLOW_PRIVATE: "1" };
  const r = await runCli(["deploy", "--dir", dir], env, { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  server = await startServerProcess(["start"], env);
});

after(async () => {
  await server?.kill();
  await loop.close();
  await dropPgDatabase(dbUrl);
  await rm(dir, { recursive: true, force: true });
});

/** Read a response body chunk by chunk, calling `onText` with everything received so far until it returns true. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, seen: { text: string }, want: (t: string) => boolean): Promise<void> {
  const dec = new TextDecoder();
  while (!want(seen.text)) {
    const r = await reader.read();
    if (r.done) throw new Error(`stream ended before the expected data; got ${JSON.stringify(seen.text)}`);
    seen.text += dec.decode(r.value, { stream: true });
  }
}

test("SSE: the first event reaches the client before the function produces the second", async () => {
  const res = await fetch(`${server.url}/functions/v1/sse?signal=${encodeURIComponent(`${loop.url}/signal/sse`)}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  const reader = res.body!.getReader();
  const seen = { text: "" };
  await readUntil(reader, seen, (t) => t.includes("data: 1\n\n"));
  // the second event can only exist after this release, which happens only now that the first has arrived
  assert.ok(!seen.text.includes("second"));
  loop.release("sse", "released-after-first");
  await readUntil(reader, seen, (t) => t.includes("data: released-after-first\n\n"));
  assert.equal(seen.text, "event: first\ndata: 1\n\nevent: second\ndata: released-after-first\n\n");
  assert.equal((await reader.read()).done, true);
});

interface LedgerRow { status: string; http_status: number; duration_ms: number; response_bytes: string | null; streamed: boolean }
const ledgerRow = async (requestId: string) => (await queryOnce<LedgerRow>(dbUrl,
  "select status, http_status, duration_ms, response_bytes::text, streamed from hangar.invocations where request_id = $1", [requestId]))[0];

test("the ledger records a streamed response when its last byte is sent: its bytes and whole duration", async () => {
  const res = await fetch(`${server.url}/functions/v1/sse?signal=${encodeURIComponent(`${loop.url}/signal/ledger`)}`);
  const id = res.headers.get("x-request-id")!;
  const reader = res.body!.getReader();
  const seen = { text: "" };
  await readUntil(reader, seen, (t) => t.includes("data: 1\n\n"));
  const firstAt = performance.now();
  // a buffered response answered after the stream began is on record, the stream (still open) is not
  const plain = await fetch(`${server.url}/functions/v1/plain`);
  assert.equal(await plain.text(), "plain");
  const plainRow = await waitFor("the buffered response's ledger row", () => ledgerRow(plain.headers.get("x-request-id")!));
  assert.deepEqual({ ...plainRow, duration_ms: 0 }, { status: "ok", http_status: 200, duration_ms: 0, response_bytes: "5", streamed: false });
  assert.equal(await ledgerRow(id), undefined, "an open stream is not on record yet");
  const releasedAt = performance.now();
  loop.release("ledger", "done");
  await readUntil(reader, seen, (t) => t.includes("data: done\n\n"));
  assert.equal((await reader.read()).done, true);
  const row = await waitFor("the streamed response's ledger row", () => ledgerRow(id));
  assert.equal(row.streamed, true);
  assert.equal(row.status, "ok");
  assert.equal(Number(row.response_bytes), Buffer.byteLength(seen.text));
  // the function began before the first byte arrived and ended after the release: its duration spans both
  assert.ok(row.duration_ms >= releasedAt - firstAt, `duration ${row.duration_ms} ms covers the ${releasedAt - firstAt} ms the stream was held open`);
});

test("a client that goes away cancels the guest's stream, and the invocation ends", async () => {
  const controller = new AbortController();
  const res = await fetch(`${server.url}/functions/v1/endless?signal=${encodeURIComponent(`${loop.url}/seen/cancel`)}`, { signal: controller.signal });
  const reader = res.body!.getReader();
  const seen = { text: "" };
  await readUntil(reader, seen, (t) => t.includes("tick 2\n"));
  controller.abort();
  const query = await loop.seenOnce("cancel");
  assert.match(decodeURIComponent(query), /^\?reason=/);
});

test("an OpenAI-style streaming proxy relays each upstream token as it arrives", async () => {
  const res = await fetch(`${server.url}/functions/v1/proxy?upstream=${encodeURIComponent(`${loop.url}/upstream/chat`)}`);
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const seen = { text: "" };
  await readUntil(reader, seen, (t) => t.includes('{"token":"Hello"}'));
  assert.ok(loop.upstreamGate, "upstream is still open");
  loop.upstreamGate!();
  await readUntil(reader, seen, (t) => t.includes("[DONE]"));
  assert.equal(seen.text, 'data: {"token":"Hello"}\n\ndata: {"token":" world"}\n\ndata: [DONE]\n\n');
});

test("a multipart upload of several files reaches the guest whole", async () => {
  const fd = new FormData();
  fd.append("note", "three files");
  const contents = [new Uint8Array(100_000).map((_, i) => i % 251), new TextEncoder().encode("hello\r\n--not-a-boundary\r\n"), new Uint8Array(0)];
  contents.forEach((c, i) => fd.append("files", new File([c], `file-${i}.bin`, { type: i === 1 ? "text/plain" : "application/octet-stream" })));
  const res = await fetch(`${server.url}/functions/v1/upload`, { method: "POST", body: fd });
  assert.equal(res.status, 200, await res.clone().text());
  const body = await res.json();
  assert.deepEqual(body, {
    note: "three files",
    files: contents.map((c, i) => ({ name: `file-${i}.bin`, type: i === 1 ? "text/plain" : "application/octet-stream", size: c.byteLength, sha256: createHash("sha256").update(c).digest("hex") })),
  });
});
