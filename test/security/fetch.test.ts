// The subrequest limit counts requests sent (every redirect hop); egress
// entries honour ports; more cloud metadata addresses are refused.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { classifyAddress, createFetchBinding, createFetcher, isUrlAllowed } from "../../host/bindings/fetch/index.ts";
import { validateConfig } from "../../host/build/index.ts";
import { call, rejection, req, startServer, type TestServer } from "../bindings/fetch/helpers.ts";

let server: TestServer;
before(async () => {
  server = await startServer((r, res) => {
    const hops = Number(new URL(r.url!, "http://x").searchParams.get("hops") ?? "0");
    if (hops > 0) {
      res.writeHead(302, { location: `/?hops=${hops - 1}` });
      return res.end();
    }
    res.end("done");
  });
});
after(() => server.close());

test("redirect hops count against the subrequest limit", async () => {
  const fetcher = createFetcher({ allowLoopback: true, maxRequests: 3 });
  try {
    const before = server.requests.length;
    const err = await rejection(call(fetcher.binding, req(`http://127.0.0.1:${server.port}/?hops=5`)));
    assert.equal(err.code, "SUBREQUEST_LIMIT");
    assert.match(err.message, /subrequest limit of 3 requests/);
    assert.equal(server.requests.length - before, 3, "exactly the limit was sent");
  } finally {
    await fetcher.close();
  }
  // Per binding (one invocation): the second call of two hops is the 3rd and 4th request.
  const binding = createFetchBinding({ allowLoopback: true, maxRequests: 3 });
  assert.equal((await call(binding, req(`http://127.0.0.1:${server.port}/?hops=1`))).status, 200);
  const second = await rejection(call(binding, req(`http://127.0.0.1:${server.port}/?hops=1`)));
  assert.equal(second.code, "SUBREQUEST_LIMIT");
});

test("egress: a bare host allows its default ports only; host:port allows that port", async () => {
  const u = (s: string) => new URL(s);
  assert.ok(isUrlAllowed(u("https://api.example.com/x"), ["api.example.com"]));
  assert.ok(isUrlAllowed(u("http://api.example.com:80/x"), ["api.example.com"]));
  assert.ok(!isUrlAllowed(u("http://api.example.com:6379/"), ["api.example.com"]));
  assert.ok(!isUrlAllowed(u("https://api.example.com:8443/"), ["api.example.com"]));
  assert.ok(isUrlAllowed(u("https://api.example.com:8443/"), ["api.example.com:8443"]));
  assert.ok(!isUrlAllowed(u("https://api.example.com/"), ["api.example.com:8443"]));
  assert.ok(isUrlAllowed(u("https://a.example.com:8443/"), ["*.example.com:8443"]));
  assert.ok(isUrlAllowed(u("http://x.test:1234/"), ["*"]));
  assert.equal(validateConfig("f", { egress: ["api.example.com:8443"] }).egress?.[0], "api.example.com:8443");
  assert.throws(() => validateConfig("f", { egress: ["api.example.com:99999"] }), /out of range/);
  const binding = createFetchBinding({ allowLoopback: true, egress: ["localhost"] });
  const err = await rejection(call(binding, req(`http://localhost:${server.port}/`)));
  assert.equal(err.code, "EGRESS_DENIED");
  assert.match(err.message, new RegExp(`port ${server.port} is not in the egress allow-list`));
  const allowed = createFetchBinding({ allowLoopback: true, egress: [`localhost:${server.port}`] });
  assert.equal((await call(allowed, req(`http://localhost:${server.port}/`))).status, 200);
});

test("metadata addresses of Azure, EKS Pod Identity and Tencent are refused, even with allowPrivate", async () => {
  for (const ip of ["168.63.129.16", "169.254.170.23", "fd00:ec2::23", "169.254.0.23", "::ffff:168.63.129.16"]) {
    assert.equal(classifyAddress(ip), "metadata", ip);
  }
  const binding = createFetchBinding({ allowLoopback: true, allowPrivate: true });
  for (const url of ["http://168.63.129.16/machine?comp=goalstate", "http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/", "http://169.254.0.23/"]) {
    const err = await rejection(call(binding, req(url)));
    assert.equal(err.code, "EGRESS_DENIED", url);
    assert.match(err.message, /cloud metadata address/);
  }
});
