// Refusals: every loopback spelling, private targets behind redirects and
// DNS, all refused before any connection is made.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createFetcher, type Resolver } from "../../../host/bindings/fetch/index.ts";
import { call, rejection, req, startServer, watchConnections, type TestServer } from "./helpers.ts";

let server: TestServer;
const watch = watchConnections();

before(async () => {
  server = await startServer((r, res) => {
    const to = new URL(r.url!, "http://x").searchParams.get("to");
    if (to) {
      res.writeHead(302, { location: to });
      return res.end();
    }
    res.end("ok");
  });
});
after(async () => {
  watch.stop();
  await server.close();
});

describe("with allowLoopback false every loopback form is refused", () => {
  const fetcher = createFetcher({});
  after(() => fetcher.close());
  const forms = (port: number) => [
    [`http://127.0.0.1:${port}/`, "127.0.0.1"],
    [`http://127.1:${port}/`, "127.0.0.1"],
    [`http://0x7f000001:${port}/`, "127.0.0.1"],
    [`http://2130706433:${port}/`, "127.0.0.1"],
    [`http://0177.0.0.1:${port}/`, "127.0.0.1"],
    [`http://[::1]:${port}/`, "[::1]"],
    [`http://[::ffff:127.0.0.1]:${port}/`, "[::ffff:7f00:1]"],
    [`http://[::ffff:7f00:1]:${port}/`, "[::ffff:7f00:1]"],
    [`http://0.0.0.0:${port}/`, "0.0.0.0"],
    [`http://localhost:${port}/`, "localhost"],
    [`http://LOCALHOST.:${port}/`, "localhost."],
    [`http://api.localhost:${port}/`, "api.localhost"],
  ];
  test("each form", async () => {
    for (const [url, host] of forms(server.port)) {
      const err = await rejection(call(fetcher.binding, req(url)));
      assert.equal(err.code, "EGRESS_DENIED", url);
      assert.ok(err.message.startsWith(`fetch to ${host} refused: `), `${url}: ${err.message}`);
      assert.match(err.message, /loopback|unspecified/, url);
    }
    assert.equal(server.connections, 0, "no connection reached the server");
    assert.deepEqual(watch.connectedTo, []);
  });
  test("the message says how to permit it", async () => {
    const err = await rejection(call(fetcher.binding, req(`http://127.1:${server.port}/`)));
    assert.equal(err.message, "fetch to 127.0.0.1 refused: loopback address (the operator can permit it with HANGAR_FETCH_ALLOW_PRIVATE=1)");
  });
});

describe("scheme and allow-list", () => {
  const fetcher = createFetcher({ allowLoopback: true, egress: ["127.0.0.1"] });
  after(() => fetcher.close());
  test("non-http schemes are refused", async () => {
    for (const url of ["file:///etc/passwd", "ftp://127.0.0.1/", "data:text/plain,hi", "javascript:1", "ws://127.0.0.1/"]) {
      const err = await rejection(call(fetcher.binding, req(url)));
      assert.equal(err.code, "EGRESS_DENIED", url);
      assert.match(err.message, /scheme .* is not allowed/);
    }
  });
  test("a host outside the allow-list is refused before connecting", async () => {
    const err = await rejection(call(fetcher.binding, req(`http://localhost:${server.port}/`)));
    assert.equal(err.code, "EGRESS_DENIED");
    assert.equal(err.message, "fetch to localhost refused: host is not in the egress allow-list");
    assert.equal(server.connections, 0);
  });
  test("a redirect from an allowed host to a refused one is refused", async () => {
    const before = server.requests.length;
    const err = await rejection(call(fetcher.binding, req(`http://127.0.0.1:${server.port}/?to=http://localhost:${server.port}/secret`)));
    assert.equal(err.code, "EGRESS_DENIED");
    assert.match(err.message, /^fetch to localhost refused: host is not in the egress allow-list/);
    assert.equal(server.requests.length, before + 1, "only the first hop was sent");
    assert.ok(!server.requests.some((r) => r.url === "/secret"));
  });
  test("a redirect to a metadata or private IP literal is refused before any connect", async () => {
    const open = createFetcher({ allowLoopback: true });
    try {
      for (const [target, why] of [
        ["http://169.254.169.254/latest/meta-data/", "cloud metadata"],
        ["http://[::ffff:169.254.169.254]/", "cloud metadata"],
        ["http://0xa9fea9fe/", "cloud metadata"],
        ["http://10.0.0.1/", "private address"],
        ["http://100.64.0.1/", "cgnat address"],
      ] as const) {
        const attempts = watch.attempts.length;
        const err = await rejection(call(open.binding, req(`http://127.0.0.1:${server.port}/?to=${encodeURIComponent(target)}`)));
        assert.equal(err.code, "EGRESS_DENIED", target);
        assert.match(err.message, new RegExp(why), target);
        assert.ok(watch.attempts.slice(attempts).every((h) => h === "127.0.0.1"), `only loopback attempted for ${target}`);
      }
    } finally {
      await open.close();
    }
    assert.ok(watch.connectedTo.every((a) => a === "127.0.0.1"));
  });
});

describe("names are checked on every resolved address (DNS rebinding)", () => {
  const zone: Record<string, string[]> = {
    "app.test": ["127.0.0.1"],
    "internal.test": ["10.0.0.1"],
    "mixed.test": ["127.0.0.1", "10.0.0.1"],
    "meta.test": ["169.254.169.254"],
  };
  const lookups: string[] = [];
  const resolve: Resolver = async (hostname) => {
    lookups.push(hostname);
    const addrs = zone[hostname];
    if (!addrs) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return addrs.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  const fetcher = createFetcher({ allowLoopback: true, resolve });
  after(() => fetcher.close());

  test("a name resolving to an allowed address connects to that address", async () => {
    const res = await call(fetcher.binding, req(`http://app.test:${server.port}/`));
    assert.equal(res.status, 200);
    assert.equal(server.requests.at(-1)!.headers.host, `app.test:${server.port}`);
  });
  test("a name resolving to a private address is refused in lookup", async () => {
    const err = await rejection(call(fetcher.binding, req(`http://internal.test:${server.port}/`)));
    assert.equal(err.code, "EGRESS_DENIED");
    assert.equal(err.message, "fetch to internal.test refused: resolves to 10.0.0.1, private address (the operator can permit it with HANGAR_FETCH_ALLOW_PRIVATE=1)");
  });
  test("one bad address among good ones refuses the whole name", async () => {
    const err = await rejection(call(fetcher.binding, req(`http://mixed.test:${server.port}/`)));
    assert.equal(err.code, "EGRESS_DENIED");
    assert.match(err.message, /resolves to 10\.0\.0\.1/);
  });
  test("a redirect to a name resolving to metadata is refused", async () => {
    const err = await rejection(call(fetcher.binding, req(`http://app.test:${server.port}/?to=http://meta.test/`)));
    assert.equal(err.code, "EGRESS_DENIED");
    assert.match(err.message, /^fetch to meta\.test refused: resolves to 169\.254\.169\.254, cloud metadata/);
    assert.ok(lookups.includes("meta.test"));
  });
  test("DNS failure is FETCH_FAILED", async () => {
    const err = await rejection(call(fetcher.binding, req("http://nowhere.test/")));
    assert.equal(err.code, "FETCH_FAILED");
    assert.match(err.message, /nowhere\.test/);
  });
  test("nothing connected anywhere but loopback", () => {
    assert.ok(watch.connectedTo.length > 0);
    assert.ok(watch.connectedTo.every((a) => a === "127.0.0.1"), watch.connectedTo.join(","));
  });
});

test("allowPrivate does not open metadata or loopback", async () => {
  const fetcher = createFetcher({ allowPrivate: true });
  try {
    for (const url of ["http://169.254.169.254/", `http://127.0.0.1:${server.port}/`]) {
      const err = await rejection(call(fetcher.binding, req(url)));
      assert.equal(err.code, "EGRESS_DENIED", url);
    }
  } finally {
    await fetcher.close();
  }
});
