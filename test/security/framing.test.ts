// A guest response cannot frame the HTTP stream: content-length,
// transfer-encoding and hop-by-hop headers it sets are dropped, so two
// requests on one keep-alive connection get exactly two responses.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, test } from "node:test";
import { createApp } from "../../host/http/app.ts";
import { functionRoutes } from "../../host/http/functions.ts";
import { listen, type HttpServer } from "../../host/server/http-server.ts";
import type { ActiveFunction } from "../../host/registry/index.ts";
import type { Invoker } from "../../host/invoke/types.ts";

let server: HttpServer;

// What a hostile guest returns: a body whose declared length ends early, so
// the rest would be read as a second (forged) response by the client.
const SMUGGLED = "HTTP/1.1 200 OK\r\ncontent-length: 6\r\nx-forged: yes\r\n\r\nforged";
const invoker: Invoker = {
  async invoke(req) {
    const which = new URL(req.request!.url).pathname;
    const headers: [string, string][] = which.endsWith("/te")
      ? [["transfer-encoding", "chunked"], ["x-kept", "1"]]
      : [["content-length", "2"], ["connection", "close, x-hop"], ["x-hop", "1"], ["keep-alive", "timeout=1"], ["upgrade", "h2c"], ["proxy-authenticate", "Basic"], ["te", "trailers"], ["trailer", "x-t"], ["x-kept", "1"]];
    return { requestId: req.requestId!, functionName: req.functionName, versionId: "1", status: 200, response: new Response(`ok${SMUGGLED}`, { headers }), stats: { cpuMs: 0, wallMs: 0, memoryBytes: 0 } };
  },
};
const fn = { name: "evil", versionId: "1", version: 1, hash: "h", config: { auth: "public" } } as unknown as ActiveFunction;

before(async () => {
  const app = createApp({
    health: async () => ({ ok: true }),
    mount: (a: import("hono").Hono) => a.route("/functions/v1", functionRoutes({ invoker, lookup: () => fn, authenticate: async () => ({ ok: true, claims: null }), maxBodyBytes: 1024 })),
  } as never);
  server = await listen(app, 0, "127.0.0.1");
});
after(() => server.close(100));

/** Send raw bytes on one connection; collect everything until the server is quiet or closes. */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(server.port, "127.0.0.1");
    let out = "";
    let timer: NodeJS.Timeout | undefined;
    const done = () => (sock.destroy(), resolve(out));
    sock.on("data", (d) => {
      out += d;
      clearTimeout(timer);
      timer = setTimeout(done, 5000);
    });
    sock.on("end", done);
    sock.on("error", reject);
    sock.write(request);
  });
}

/** Parse HTTP/1.1 responses back to back as a client would: by their own framing. */
function parse(out: string): { head: string; body: string }[] {
  const msgs: { head: string; body: string }[] = [];
  let rest = out;
  while (rest.length) {
    const end = rest.indexOf("\r\n\r\n");
    assert.ok(end > 0, `no complete head in ${JSON.stringify(rest.slice(0, 200))}`);
    const head = rest.slice(0, end).toLowerCase();
    rest = rest.slice(end + 4);
    let body = "";
    const len = /^content-length: (\d+)$/m.exec(head);
    if (len) {
      body = rest.slice(0, Number(len[1]));
      rest = rest.slice(Number(len[1]));
    } else if (/^transfer-encoding: chunked$/m.test(head)) {
      for (;;) {
        const eol = rest.indexOf("\r\n");
        const size = parseInt(rest.slice(0, eol), 16);
        rest = rest.slice(eol + 2);
        if (size === 0) {
          rest = rest.slice(2);
          break;
        }
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
      }
    }
    msgs.push({ head, body });
  }
  return msgs;
}

for (const path of ["/functions/v1/evil/cl", "/functions/v1/evil/te"]) {
  test(`guest framing headers are dropped (${path.split("/").pop()}): two requests, two whole responses, no forged one`, async () => {
    const req = `GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`;
    // The second asks the server to close after it, so the read ends there.
    const msgs = parse(await raw(req + req.replace("\r\n\r\n", "\r\nconnection: close\r\n\r\n")));
    assert.equal(msgs.length, 2, JSON.stringify(msgs));
    for (const { head, body } of msgs) {
      assert.match(head, /^http\/1\.1 200 ok/);
      assert.equal(body, `ok${SMUGGLED}`);
      assert.match(head, /^x-kept: 1$/m);
      for (const gone of ["x-hop", "upgrade", "proxy-authenticate", "te", "trailer"]) assert.doesNotMatch(head, new RegExp(`^${gone}:`, "m"), gone);
      assert.doesNotMatch(head, /^keep-alive: timeout=1$/m);
    }
  });
}

test("a crafted million-frame stack is cut before it is mapped or stored", async () => {
  const { mapStack, MAX_STACK_FRAMES, MAX_STACK_CHARS } = await import("../../host/build/stack.ts");
  const huge = `Error: x\n${"    at f (bundle.js:1:1)\n".repeat(1_000_000)}`;
  const map = JSON.stringify({ version: 3, sources: ["a.ts"], names: [], mappings: "AAAA" });
  const out = mapStack(huge, map, "bundle.js");
  assert.ok(out.length <= MAX_STACK_CHARS + 200, `${out.length}`);
  assert.ok(out.split("\n").length <= MAX_STACK_FRAMES + 1);
  assert.match(out, /stack cut at/);
  assert.match(out, /a\.ts:1:1/);
});
