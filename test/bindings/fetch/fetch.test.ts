// End to end against real HTTP servers on 127.0.0.1 (allowLoopback: true).
import assert from "node:assert/strict";
import type http from "node:http";
import { after, before, describe, test } from "node:test";
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { createFetchBinding, createFetcher, closeSharedFetchAgents } from "../../../host/bindings/fetch/index.ts";
import { call, rejection, req, startServer, text, watchConnections, type TestServer } from "./helpers.ts";
import type { FetchResponseData } from "../../../runtime/types.ts";

let server: TestServer;
let base: string;
const watch = watchConnections();
const fetcher = createFetcher({ allowLoopback: true, timeoutMs: 2000 });
const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer }[] = [];

function route(r: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
  const u = new URL(r.url!, "http://x");
  const q = (k: string) => u.searchParams.get(k);
  switch (u.pathname) {
    case "/echo":
      res.setHeader("set-cookie", ["a=1; Path=/", "b=2; HttpOnly"]);
      res.setHeader("x-method", r.method!);
      res.setHeader("content-type", r.headers["content-type"] ?? "application/octet-stream");
      return void res.end(body);
    case "/redirect":
      res.writeHead(Number(q("status") ?? 302), { location: q("to")! });
      return void res.end("moved");
    case "/loop":
      res.writeHead(302, { location: "/loop" });
      return void res.end();
    case "/big":
      res.setHeader("content-length", String(Number(q("n"))));
      return void res.end(Buffer.alloc(Number(q("n")), 0x61));
    case "/stream": {
      // Chunked, no content-length: endless until the client goes away.
      const timer = setInterval(() => res.write(Buffer.alloc(64 * 1024, 0x62)), 1);
      res.on("close", () => clearInterval(timer));
      return;
    }
    case "/gzip":
      res.writeHead(200, { "content-encoding": "gzip", "content-type": "text/plain" });
      return void res.end(gzipSync("hello, compressed"));
    case "/coded": {
      // ?as=<content-encoding value>: the codings applied in the order listed
      const codings = q("as")!.split(",").map((c) => c.trim());
      const encode: Record<string, (b: Buffer) => Buffer> = { gzip: gzipSync, deflate: deflateSync, "deflate-raw": deflateRawSync, br: brotliCompressSync };
      let out: Buffer = Buffer.from("hello, " + q("as"));
      for (const c of codings) out = encode[c](out);
      res.writeHead(200, { "content-encoding": q("as")!.replace("deflate-raw", "deflate") });
      return void res.end(out);
    }
    case "/bomb":
      res.writeHead(200, { "content-encoding": "gzip" });
      return void res.end(gzipSync(Buffer.alloc(8 * 1024 * 1024)));
    case "/hang":
      return; // never answers
    case "/slow-body":
      res.writeHead(200);
      res.write("partial");
      return; // body never ends
    case "/status":
      res.writeHead(Number(q("code")), "Custom Text");
      return void res.end();
    default:
      res.writeHead(404);
      res.end();
  }
}

before(async () => {
  server = await startServer((r, res) => {
    const chunks: Buffer[] = [];
    r.on("data", (c: Buffer) => chunks.push(c));
    r.on("end", () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: r.method!, url: r.url!, headers: r.headers, body });
      route(r, res, body);
    });
  });
  base = `http://127.0.0.1:${server.port}`;
});
after(async () => {
  await fetcher.close();
  await server.close();
  await closeSharedFetchAgents();
  watch.stop();
  assert.ok(watch.connectedTo.every((a) => a === "127.0.0.1"));
});
const last = () => seen[seen.length - 1];

describe("round trips", () => {
  test("GET returns status, headers, body and final url", async () => {
    const res = await call(fetcher.binding, req(`${base}/echo`));
    assert.equal(res.status, 200);
    assert.equal(res.statusText, "OK");
    assert.equal(res.url, `${base}/echo`);
    assert.equal(res.redirected, false);
    assert.ok(res.body instanceof Uint8Array);
    assert.equal(res.body.byteLength, 0);
  });

  test("POST with a binary body and repeated set-cookie headers", async () => {
    const bytes = new Uint8Array(256 * 4).map((_, i) => i % 256);
    const res = await call(fetcher.binding, req(`${base}/echo`, {
      method: "POST",
      headers: [["content-type", "application/x-bin"], ["x-multi", "1"], ["x-multi", "2"]],
      body: bytes,
    }));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, bytes);
    assert.deepEqual(Buffer.compare(last().body, Buffer.from(bytes)), 0);
    assert.equal(last().headers["x-multi"], "1, 2");
    assert.deepEqual(res.headers.filter(([k]) => k === "set-cookie").map(([, v]) => v), ["a=1; Path=/", "b=2; HttpOnly"]);
    assert.ok(res.headers.some(([k, v]) => k === "x-method" && v === "POST"));
    assert.ok(res.headers.some(([k, v]) => k === "content-type" && v === "application/x-bin"));
  });

  test("host and hop-by-hop headers from the guest are not forwarded", async () => {
    await call(fetcher.binding, req(`${base}/echo`, {
      headers: [["host", "evil.example"], ["connection", "x-secret"], ["x-secret", "s"], ["keep-alive", "1"], ["te", "trailers"], ["x-ok", "y"]],
    }));
    const h = last().headers;
    assert.equal(h.host, `127.0.0.1:${server.port}`);
    assert.equal(h["x-secret"], undefined);
    assert.equal(h["te"], undefined);
    assert.equal(h["x-ok"], "y");
  });

  test("gzip bodies arrive decoded, without content-encoding / content-length", async () => {
    const res = await call(fetcher.binding, req(`${base}/gzip`));
    assert.equal(text(res), "hello, compressed");
    assert.ok(!res.headers.some(([k]) => k === "content-encoding" || k === "content-length"));
  });

  test("deflate (zlib-wrapped or raw), br and stacked codings arrive decoded; the request says what fetch accepts", async () => {
    for (const as of ["deflate", "deflate-raw", "br", "gzip, br"]) {
      const res = await call(fetcher.binding, req(`${base}/coded?as=${encodeURIComponent(as)}`));
      assert.equal(text(res), `hello, ${as}`, as);
      assert.ok(!res.headers.some(([k]) => k === "content-encoding"), as);
    }
    const h = last().headers;
    assert.equal(h["accept-encoding"], "gzip, deflate");
    assert.equal(h.accept, "*/*");
    // what the guest sets is what goes
    await call(fetcher.binding, req(`${base}/echo`, { headers: [["accept", "application/json"], ["user-agent", "mine/1"]] }));
    assert.equal(last().headers.accept, "application/json");
    assert.equal(last().headers["user-agent"], "mine/1");
  });

  test("non-2xx statuses and status text pass through", async () => {
    const res = await call(fetcher.binding, req(`${base}/status?code=418`));
    assert.equal(res.status, 418);
    assert.equal(res.statusText, "Custom Text");
  });

  test("lowercase standard methods are normalised", async () => {
    await call(fetcher.binding, req(`${base}/echo`, { method: "delete" }));
    assert.equal(last().method, "DELETE");
  });

  test("createFetchBinding shares one Agent per address policy", async () => {
    const a = createFetchBinding({ allowLoopback: true, egress: ["127.0.0.1"] });
    const res = await call(a, req(`${base}/echo`));
    assert.equal(res.status, 200);
    const err = await rejection(call(createFetchBinding({ allowLoopback: true, egress: ["example.com"] }), req(`${base}/echo`)));
    assert.equal(err.code, "EGRESS_DENIED");
  });
});

describe("redirects", () => {
  const to = (target: string, status = 302) => `${base}/redirect?status=${status}&to=${encodeURIComponent(target)}`;

  test("follow: 302 after POST becomes a body-less GET", async () => {
    const res = await call(fetcher.binding, req(to("/echo"), {
      method: "POST", headers: [["content-type", "text/plain"]], body: new TextEncoder().encode("payload"),
    }));
    assert.equal(res.status, 200);
    assert.equal(res.redirected, true);
    assert.equal(res.url, `${base}/echo`);
    assert.equal(last().method, "GET");
    assert.equal(last().body.length, 0);
    assert.equal(last().headers["content-type"], undefined);
  });

  test("follow: 303 turns PUT into GET; 307 and 308 keep method and body", async () => {
    await call(fetcher.binding, req(to("/echo", 303), { method: "PUT", body: new Uint8Array([1]) }));
    assert.equal(last().method, "GET");
    for (const status of [307, 308]) {
      const res = await call(fetcher.binding, req(to("/echo", status), { method: "POST", body: new Uint8Array([1, 2, 3]) }));
      assert.equal(last().method, "POST");
      assert.deepEqual([...last().body], [1, 2, 3]);
      assert.deepEqual([...res.body], [1, 2, 3]);
    }
  });

  test("follow: credentials are dropped on a cross-origin hop", async () => {
    const other = `http://localhost:${server.port}/echo`; // same server, different origin
    await call(fetcher.binding, req(to(other), { headers: [["authorization", "Bearer t"], ["cookie", "c=1"], ["x-keep", "1"]] }));
    assert.equal(last().headers.host, `localhost:${server.port}`);
    assert.equal(last().headers.authorization, undefined);
    assert.equal(last().headers.cookie, undefined);
    assert.equal(last().headers["x-keep"], "1");
    await call(fetcher.binding, req(to("/echo"), { headers: [["authorization", "Bearer t"]] }));
    assert.equal(last().headers.authorization, "Bearer t");
  });

  test("manual: the 3xx comes back with its Location", async () => {
    const res = await call(fetcher.binding, req(to("/echo", 301), { redirect: "manual" }));
    assert.equal(res.status, 301);
    assert.equal(res.redirected, false);
    assert.ok(res.headers.some(([k, v]) => k === "location" && v === "/echo"));
    assert.equal(text(res), "moved");
  });

  test("error: a redirect rejects with FETCH_REDIRECT", async () => {
    const err = await rejection(call(fetcher.binding, req(to("/echo"), { redirect: "error" })));
    assert.equal(err.code, "FETCH_REDIRECT");
  });

  test("too many redirects", async () => {
    const f = createFetcher({ allowLoopback: true, maxRedirects: 3 });
    try {
      const before = seen.length;
      const err = await rejection(call(f.binding, req(`${base}/loop`)));
      assert.equal(err.code, "FETCH_REDIRECT");
      assert.match(err.message, /more than 3 redirects/);
      assert.equal(seen.length - before, 4);
    } finally {
      await f.close();
    }
  });

  test("a redirect to a non-http scheme is refused", async () => {
    const err = await rejection(call(fetcher.binding, req(to("file:///etc/passwd"))));
    assert.equal(err.code, "EGRESS_DENIED");
  });
});

describe("limits", () => {
  test("response over the cap (declared length) fails", async () => {
    const f = createFetcher({ allowLoopback: true, maxResponseBytes: 1000 });
    try {
      assert.equal((await call(f.binding, req(`${base}/big?n=1000`))).body.byteLength, 1000);
      const err = await rejection(call(f.binding, req(`${base}/big?n=1001`)));
      assert.equal(err.code, "RESPONSE_TOO_LARGE");
      assert.match(err.message, /exceeds the 1000-byte limit/);
    } finally {
      await f.close();
    }
  });

  test("an endless chunked response stops at the cap", async () => {
    const f = createFetcher({ allowLoopback: true, maxResponseBytes: 1024 * 1024 });
    try {
      const started = Date.now();
      const err = await rejection(call(f.binding, req(`${base}/stream`)));
      assert.equal(err.code, "RESPONSE_TOO_LARGE");
      assert.ok(Date.now() - started < 1500);
    } finally {
      await f.close();
    }
  });

  test("the cap counts decoded bytes (gzip bomb)", async () => {
    const f = createFetcher({ allowLoopback: true, maxResponseBytes: 1024 * 1024 });
    try {
      const err = await rejection(call(f.binding, req(`${base}/bomb`)));
      assert.equal(err.code, "RESPONSE_TOO_LARGE");
    } finally {
      await f.close();
    }
  });

  test("request body over the cap fails before sending", async () => {
    const f = createFetcher({ allowLoopback: true, maxRequestBytes: 10 });
    try {
      const before = seen.length;
      const err = await rejection(call(f.binding, req(`${base}/echo`, { method: "POST", body: new Uint8Array(11) })));
      assert.equal(err.code, "REQUEST_TOO_LARGE");
      assert.equal(seen.length, before);
    } finally {
      await f.close();
    }
  });

  test("timeout while waiting for headers, and while reading the body", async () => {
    const f = createFetcher({ allowLoopback: true, timeoutMs: 150 });
    try {
      for (const path of ["/hang", "/slow-body"]) {
        const started = Date.now();
        const err = await rejection(call(f.binding, req(`${base}${path}`)));
        assert.equal(err.code, "FETCH_TIMEOUT", path);
        assert.match(err.message, /timed out after 150 ms/);
        assert.ok(Date.now() - started < 1500, path);
      }
    } finally {
      await f.close();
    }
  });

  test("the invocation's signal aborts the fetch", async () => {
    const ac = new AbortController();
    const p = call(fetcher.binding, req(`${base}/hang`), ac.signal);
    setTimeout(() => ac.abort(), 50);
    const err = await rejection(p);
    assert.equal(err.code, "FETCH_ABORTED");
    const pre = new AbortController();
    pre.abort();
    assert.equal((await rejection(call(fetcher.binding, req(`${base}/echo`), pre.signal))).code, "FETCH_ABORTED");
  });
});

describe("failures and bad input", () => {
  test("connection refused is FETCH_FAILED with the cause", async () => {
    const gone = await startServer(() => {});
    const port = gone.port;
    await gone.close();
    const err = await rejection(call(fetcher.binding, req(`http://127.0.0.1:${port}/`)));
    assert.equal(err.code, "FETCH_FAILED");
    assert.match(err.message, /ECONNREFUSED/);
    assert.ok(err.cause);
  });

  test("a connection cut mid-body is FETCH_FAILED, never a short body (whole or streamed)", async () => {
    // headers and a first part, then the socket is destroyed with 90 of the declared 100 bytes missing
    const cut = await startServer((_r, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("0123456789", () => setTimeout(() => res.socket?.destroy(), 20));
    });
    try {
      const url = `http://127.0.0.1:${cut.port}/`;
      const whole = await rejection(call(fetcher.binding, req(url)));
      assert.equal(whole.code, "FETCH_FAILED");
      const started = (await fetcher.binding([{ ...req(url), stream: true }], { requestId: "test", signal: new AbortController().signal })) as FetchResponseData & { bodyStream?: number };
      assert.equal(Buffer.from(started.body).toString(), "0123456789");
      assert.equal(typeof started.bodyStream, "number", "the rest is still to come");
      const rest = await rejection(fetcher.binding.read([started.bodyStream], { requestId: "test", signal: new AbortController().signal }) as Promise<unknown>);
      assert.equal(rest.code, "FETCH_FAILED");
    } finally {
      await cut.close();
    }
  });

  test("an allowed IPv6 literal reaches the network layer (no refusal)", async () => {
    // Nothing listens on [::1] at this port; the point is it is not refused.
    const err = await rejection(call(fetcher.binding, req(`http://[::1]:${server.port}/`)));
    assert.equal(err.code, "FETCH_FAILED");
  });

  test("malformed request data is FETCH_INVALID", async () => {
    const bad: unknown[] = [
      null,
      { url: 1 },
      { url: "not a url" },
      { url: `${base}/`, method: "GET", body: new Uint8Array(1) },
      { url: `${base}/`, headers: [["a"]] },
      { url: `${base}/`, headers: [["bad name", "v"]] },
      { url: `${base}/`, redirect: "sometimes" },
      { url: `${base}/`, method: "CONNECT" },
      { url: `http://user:pw@127.0.0.1:${server.port}/` },
    ];
    for (const data of bad) {
      const err = await rejection(fetcher.binding([data], { requestId: "t", signal: new AbortController().signal }));
      assert.equal(err.code, "FETCH_INVALID", JSON.stringify(data));
    }
  });

  test("close() is safe twice and later calls reject", async () => {
    const f = createFetcher({ allowLoopback: true });
    assert.equal((await call(f.binding, req(`${base}/echo`))).status, 200);
    await f.close();
    await f.close();
    const err = await rejection(call(f.binding, req(`${base}/echo`)));
    assert.equal(err.name, "HostBindingError");
  });
});
