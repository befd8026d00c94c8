// Address classification and egress matching; pure functions, no traffic.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkAddress, classifyAddress, isHostAllowed, isIpLiteral } from "../../../host/bindings/fetch/index.ts";

describe("classifyAddress", () => {
  const cases: [string, string][] = [
    ["8.8.8.8", "public"],
    ["1.1.1.1", "public"],
    ["2606:4700:4700::1111", "public"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["0:0:0:0:0:ffff:7f00:1", "loopback"],
    ["::ffff:10.1.2.3", "private"],
    ["::ffff:169.254.169.254", "metadata"],
    ["10.0.0.1", "private"],
    ["172.16.5.4", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "cgnat"],
    ["100.127.255.255", "cgnat"],
    ["169.254.169.254", "metadata"],
    ["169.254.170.2", "metadata"],
    ["fd00:ec2::254", "metadata"],
    ["169.254.1.1", "link-local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["fc00::1", "unique-local"],
    ["fd12:3456::1", "unique-local"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["::", "unspecified"],
    ["255.255.255.255", "broadcast"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["192.0.0.8", "reserved"],
    ["192.0.2.1", "reserved"],
    ["198.51.100.7", "reserved"],
    ["203.0.113.9", "reserved"],
    ["198.18.0.1", "reserved"],
    ["198.19.255.255", "reserved"],
    ["240.0.0.1", "reserved"],
    ["2001:db8::1", "reserved"],
    ["::7f00:1", "reserved"],          // IPv4-compatible, deprecated
    ["2002:7f00:1::", "reserved"],     // 6to4 wrapping 127.0.0.1
    ["64:ff9b::a00:1", "private"],     // NAT64 of 10.0.0.1
    ["64:ff9b::808:808", "public"],    // NAT64 of 8.8.8.8
    ["127.1", "invalid"],              // odd forms must be URL-normalised first
    ["localhost", "invalid"],
    ["", "invalid"],
  ];
  for (const [ip, expected] of cases) {
    test(`${ip || "(empty)"} is ${expected}`, () => assert.equal(classifyAddress(ip), expected));
  }
});

describe("odd IPv4 forms as URL hosts normalise to an address the classifier sees", () => {
  for (const host of ["127.1", "0x7f000001", "2130706433", "0177.0.0.1", "127.0.0.1.", "0x7f.0.0.1", "%31%32%37.0.0.1"]) {
    test(`http://${host}/`, () => {
      const { hostname } = new URL(`http://${host}/`);
      assert.equal(hostname, "127.0.0.1");
      assert.ok(isIpLiteral(hostname));
      assert.equal(classifyAddress(hostname), "loopback");
    });
  }
  test("IPv6 literals keep brackets and are classified", () => {
    assert.equal(new URL("http://[::ffff:127.0.0.1]/").hostname, "[::ffff:7f00:1]");
    assert.equal(classifyAddress(new URL("http://[::ffff:127.0.0.1]/").hostname), "loopback");
    assert.equal(classifyAddress(new URL("http://[::1]/").hostname), "loopback");
    assert.equal(classifyAddress(new URL("http://0/").hostname), "unspecified");
    assert.equal(classifyAddress(new URL("http://0xa9fea9fe/").hostname), "metadata");
  });
  test("names are not IP literals", () => {
    assert.equal(isIpLiteral("localhost"), false);
    assert.equal(isIpLiteral("127.0.0.1.nip.io"), false);
  });
});

describe("checkAddress", () => {
  test("loopback needs allowLoopback", () => {
    assert.match(checkAddress("127.0.0.1", {}) ?? "", /loopback address \(the operator can permit it with HANGAR_FETCH_ALLOW_PRIVATE=1\)/);
    assert.equal(checkAddress("127.0.0.1", { allowLoopback: true }), null);
    assert.notEqual(checkAddress("127.0.0.1", { allowPrivate: true }), null);
  });
  test("private ranges need allowPrivate", () => {
    for (const ip of ["10.0.0.1", "192.168.0.1", "100.64.0.1", "fd00::1", "169.254.1.1"]) {
      assert.notEqual(checkAddress(ip, { allowLoopback: true }), null, ip);
      assert.equal(checkAddress(ip, { allowPrivate: true }), null, ip);
    }
  });
  test("metadata, unspecified, broadcast, multicast, reserved are never allowed", () => {
    const all = { allowLoopback: true, allowPrivate: true };
    for (const ip of ["169.254.169.254", "fd00:ec2::254", "0.0.0.0", "::", "255.255.255.255", "224.0.0.1", "192.0.2.1", "not-an-ip"]) {
      assert.notEqual(checkAddress(ip, all), null, ip);
    }
  });
  test("public is allowed by default", () => assert.equal(checkAddress("8.8.8.8", {}), null));
});

describe("isHostAllowed", () => {
  test("null allows any host", () => assert.ok(isHostAllowed("anything.example", null)));
  test("exact names, case and trailing dot insensitive", () => {
    assert.ok(isHostAllowed("API.example.com.", ["api.example.com"]));
    assert.ok(!isHostAllowed("example.com", ["api.example.com"]));
    assert.ok(!isHostAllowed("api.example.com.evil.io", ["api.example.com"]));
  });
  test("wildcards match subdomains, not the apex or look-alikes", () => {
    const list = ["*.example.com"];
    assert.ok(isHostAllowed("a.example.com", list));
    assert.ok(isHostAllowed("a.b.example.com", list));
    assert.ok(!isHostAllowed("example.com", list));
    assert.ok(!isHostAllowed("badexample.com", list));
  });
  test("IDN patterns match the punycode hostnames URL produces", () => {
    assert.ok(isHostAllowed(new URL("http://bücher.de/").hostname, ["bücher.de"]));
    assert.ok(isHostAllowed(new URL("http://shop.bücher.de/").hostname, ["*.bücher.de"]));
    assert.ok(isHostAllowed("a.example.com", ["*.EXAMPLE.com."]));
  });
  test("IP literal patterns compare in canonical form", () => {
    assert.ok(isHostAllowed("127.0.0.1", ["127.1"]));
    assert.ok(isHostAllowed("[::1]", ["::1"]));
    assert.ok(isHostAllowed("[::1]", ["[::1]"]));
    assert.ok(!isHostAllowed("localhost", ["127.0.0.1"]));
  });
  test("an empty list allows nothing; '*' allows everything", () => {
    assert.ok(!isHostAllowed("a.com", []));
    assert.ok(isHostAllowed("a.com", ["*"]));
  });
});
