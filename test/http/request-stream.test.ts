// A request body reaches the guest as a stream, through a real port, with
// the instance in process and on a sandbox thread: the guest sees the first
// chunk of an upload before the client sends the last (ordering forced by the
// client waiting for the guest's echo, never by time), a 5 MiB upload hashes
// as Node hashes it, a chunked upload over the cap is refused naming the
// limit, and a function that ignores its body leaves its instance serving.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { HangarServer } from "../../host/server/index.ts";
import { devConfig, serveDeployed } from "../helpers/server.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { waitFor } from "../helpers/wait.ts";

const CAP = 6 * 1024 * 1024;

const FUNCTIONS: Record<string, string> = {
  // answers at once with a stream that echoes (the start of) each request chunk as the guest reads it: a short
  // answer, so that the client has read it all before the server closes a connection it stopped reading
  "echo.ts": `export default { async fetch(req: Request) {
    const reader = req.body!.getReader();
    const dec = new TextDecoder();
    const enc = new TextEncoder();
    return new Response(new ReadableStream({
      async pull(c) {
        try {
          const r = await reader.read();
          if (r.done) { c.enqueue(enc.encode("done\\n")); c.close(); return; }
          c.enqueue(enc.encode("seen:" + dec.decode(r.value.subarray(0, 16)).toUpperCase() + "\\n"));
        } catch (e) {
          c.enqueue(enc.encode("error:" + (e as Error).message + "\\n"));
          c.close();
        }
      },
    }), { headers: { "content-type": "text/plain" } });
  } };`,
  // ?chunks reads the body through its reader (counting chunks), ?json with json(), else arrayBuffer()
  "digest.ts": `export const config = { limits: { cpuMs: 10000 } };
  const hex = async (b: Uint8Array | ArrayBuffer) => [...new Uint8Array(await crypto.subtle.digest("SHA-256", b))].map((x) => x.toString(16).padStart(2, "0")).join("");
  export default { async fetch(req: Request) {
    const q = new URL(req.url).searchParams;
    if (q.has("json")) return Response.json({ json: await req.json() });
    if (!q.has("chunks")) return Response.json({ sha256: await hex(await req.arrayBuffer()) });
    const reader = req.body!.getReader();
    const parts: Uint8Array[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
    const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of parts) { all.set(p, at); at += p.byteLength; }
    return Response.json({ chunks: parts.length, sha256: await hex(all) });
  } };`,
  "ignore.ts": `let n = 0;
  export default { async fetch() { return Response.json({ n: ++n }); } };`,
};

/** A chunked POST (no content-length) through node:http, so the test decides when each chunk goes. */
function openUpload(url: string): { write(chunk: string | Uint8Array): void; end(): void; response: Promise<IncomingMessage> } {
  const req = httpRequest(url, { agent: false, method: "POST", headers: { "transfer-encoding": "chunked", "content-type": "application/octet-stream" } });
  // the server may close its side once it has answered and stopped reading: the answer is what counts
  req.on("error", () => {});
  const response = new Promise<IncomingMessage>((resolve, reject) => { req.on("response", resolve); req.on("close", () => reject(new Error("closed before a response"))); });
  req.flushHeaders();
  return { write: (c) => void req.write(c), end: () => void req.end(), response };
}

/** The response's text as it arrives: `until` waits for a condition on all received so far. */
function collect(res: IncomingMessage): { text(): string; until(want: (t: string) => boolean): Promise<void>; ended: Promise<void> } {
  let text = "";
  const waits: { want: (t: string) => boolean; resolve: () => void }[] = [];
  res.setEncoding("utf8");
  res.on("data", (d: string) => {
    text += d;
    for (const w of [...waits]) if (w.want(text)) { waits.splice(waits.indexOf(w), 1); w.resolve(); }
  });
  const ended = new Promise<void>((resolve, reject) => { res.on("end", resolve); res.on("error", reject); });
  return {
    text: () => text,
    until: (want) => (want(text) ? Promise.resolve() : Promise.race([new Promise<void>((resolve) => waits.push({ want, resolve })), ended.then(() => { throw new Error(`ended before the expected text; got ${JSON.stringify(text)}`); })])),
    ended,
  };
}

const pattern = (bytes: number, seed: number) => {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
};

for (const mode of [{ name: "in process", threads: 0 }, { name: "on a sandbox thread", threads: 1 }]) {
  describe(`a request body reaches the guest as a stream, ${mode.name}`, () => {
    let t: TestDatabase;
    let dir: string;
    let server: HangarServer;
    let base: string;

    before(async () => {
      t = await createTestDatabase();
      dir = await mkdtemp(join(tmpdir(), "hangar-reqstream-"));
      for (const [file, src] of Object.entries(FUNCTIONS)) await writeFile(join(dir, file), src);
      const config = { ...devConfig(dir, { HANGAR_MAX_BODY_BYTES: String(CAP) }), sandboxThreads: mode.threads };
      server = await serveDeployed(config, t.db);
      base = `${server.url}/functions/v1`;
    });

    after(async () => {
      await server?.close();
      await t?.close();
      await rm(dir, { recursive: true, force: true });
    });

    test("the guest sees the first chunk before the client sends the last", async () => {
      const up = openUpload(`${base}/echo`);
      up.write("alpha");
      const res = await up.response;
      assert.equal(res.statusCode, 200);
      const body = collect(res);
      // the second chunk is written only once the guest has echoed the first
      await body.until((s) => s.includes("seen:ALPHA\n"));
      assert.ok(!body.text().includes("BETA"));
      up.write("beta");
      await body.until((s) => s.includes("seen:BETA\n"));
      up.end();
      await body.ended;
      assert.equal(body.text(), "seen:ALPHA\nseen:BETA\ndone\n");
    });

    test("a 5 MiB upload, declared or chunked, hashes in the guest as Node hashes it", async () => {
      const data = pattern(5 * 1024 * 1024, 7);
      const want = createHash("sha256").update(data).digest("hex");
      const declared = await fetch(`${base}/digest?chunks`, { method: "POST", body: data });
      assert.equal(declared.status, 200);
      const got = (await declared.json()) as { chunks: number; sha256: string };
      assert.equal(got.sha256, want);
      assert.ok(got.chunks > 1, `the guest read the body as it came, in ${got.chunks} chunks`);
      const chunked = await fetch(`${base}/digest`, {
        method: "POST",
        duplex: "half",
        body: new ReadableStream({
          pull(c) { for (let at = 0; at < data.byteLength; at += 100_000) c.enqueue(data.subarray(at, at + 100_000)); c.close(); },
        }),
      } as RequestInit);
      assert.equal(chunked.status, 200);
      assert.deepEqual(await chunked.json(), { sha256: want });
    });

    test("json() reads a chunked body; a small declared body arrives whole, in one chunk", async () => {
      const up = openUpload(`${base}/digest?json`);
      up.write('{"a":');
      up.write("[1,2,3]}");
      up.end();
      const res = await up.response;
      const body = collect(res);
      await body.ended;
      assert.deepEqual(JSON.parse(body.text()), { json: { a: [1, 2, 3] } });
      const small = pattern(60 * 1024, 5);
      const whole = await fetch(`${base}/digest?chunks`, { method: "POST", body: small });
      assert.deepEqual(await whole.json(), { chunks: 1, sha256: createHash("sha256").update(small).digest("hex") });
    });

    test("a chunked upload over the cap is refused naming the limit (413 before an answer, a failed read after)", async () => {
      const over = pattern(CAP + 64 * 1024, 3);
      const refused = openUpload(`${base}/digest`);
      for (let at = 0; at < over.byteLength; at += 256 * 1024) refused.write(over.subarray(at, at + 256 * 1024));
      refused.end();
      const res = await refused.response;
      const body = collect(res);
      await body.ended;
      assert.equal(res.statusCode, 413);
      const err = JSON.parse(body.text()).error;
      assert.equal(err.code, "PAYLOAD_TOO_LARGE");
      assert.equal(err.message, `request body exceeds the limit of ${CAP} bytes`);
      // the echo answered before the cap was passed: its read fails, naming the limit
      const echoed = openUpload(`${base}/echo`);
      for (let at = 0; at < over.byteLength; at += 256 * 1024) echoed.write(new TextEncoder().encode("x".repeat(256 * 1024)));
      echoed.end();
      const res2 = await echoed.response;
      assert.equal(res2.statusCode, 200);
      const text = collect(res2);
      await text.ended;
      assert.match(text.text(), new RegExp(`\\nerror:request body exceeds the limit of ${CAP} bytes\\n$`));
      // each invocation's record says what its client got: the refusal, and the echo's streamed 200
      const row = (id: string) => waitFor(`the record of ${id}`, async () =>
        (await t.db.query<{ status: string; http_status: number; error_message: string | null; streamed: boolean }>(
          "select status, http_status, error_message, streamed from hangar.invocations where request_id = $1", [id])).rows[0]);
      assert.deepEqual(await row(String(res.headers["x-request-id"])), { status: "PAYLOAD_TOO_LARGE", http_status: 413, error_message: `request body exceeds the limit of ${CAP} bytes`, streamed: false });
      assert.deepEqual(await row(String(res2.headers["x-request-id"])), { status: "ok", http_status: 200, error_message: null, streamed: true });
    });

    test("a function that ignores its body ends cleanly, and the next request on the instance works", async () => {
      const first = await fetch(`${base}/ignore`, { method: "POST", body: pattern(2 * 1024 * 1024, 1) });
      assert.equal(first.status, 200);
      const { n } = (await first.json()) as { n: number };
      const up = openUpload(`${base}/ignore`);
      up.write(pattern(512 * 1024, 2));
      const res = await up.response;
      const body = collect(res);
      await body.ended;
      up.end();
      assert.deepEqual(JSON.parse(body.text()), { n: n + 1 });
      const next = await fetch(`${base}/ignore`, { method: "POST", body: "small" });
      assert.deepEqual(await next.json(), { n: n + 2 });
    });
  });
}
