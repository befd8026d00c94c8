// A request reaches the guest as one string it splits (the "fetch head", see
// runtime/contract.js) unless a field holds the separator or env/auth need
// buffers; then the general encoding carries it. Either way the guest must see
// the same request, env, requestId and auth, in process and on a sandbox thread.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createRuntime, type FunctionInstance, type Runtime } from "../../runtime/index.ts";
import { fetchBundle, input, ROOMY } from "./helpers.ts";
import { decodeResultHead, encodeResultHead, RESULT_HEAD } from "../../runtime/contract.js";

const BUNDLE = fetchBundle(`async (req, env, ctx) => {
  const u = new URL(req.url);
  return Response.json({
    url: req.url, method: req.method, path: u.pathname, search: u.search, q: u.searchParams.get("q"), host: u.host,
    headers: [...req.headers], body: await req.text(), env: { ...env }, requestId: ctx.requestId, auth: ctx.auth,
  });
}`);

const SEP = "\u0001";

const CASES: { name: string; url: string; headers: [string, string][]; body: string | null; env: Record<string, string>; auth: unknown }[] = [
  { name: "a plain GET", url: "http://localhost:8080/a/b?q=1#h", headers: [["accept", "*/*"], ["x-two", "a, b"]], body: null, env: { GREETING: "hello" }, auth: null },
  { name: "a POST with a body, claims and an empty header", url: "https://example.com/p?q=%20x", headers: [["content-type", "text/plain"], ["x-empty", ""]], body: "snow \u2603", env: { A: "1", B: "" }, auth: { sub: "u1", role: "authenticated", n: [1, 2] } },
  { name: "a header holding the separator (general encoding)", url: "http://localhost/s", headers: [["x-odd", `a${SEP}b`]], body: "x", env: {}, auth: null },
  { name: "env holding the separator (general encoding)", url: "http://localhost/e", headers: [], body: null, env: { K: `v${SEP}w` }, auth: { sub: SEP } },
  { name: `a request id holding the separator${SEP} (general encoding)`, url: "http://localhost/r", headers: [], body: null, env: {}, auth: null },
  { name: "a URL the guest parses itself (over 2048 characters)", url: `http://localhost/long?q=${"z".repeat(2100)}`, headers: [], body: null, env: {}, auth: null },
];

for (const threads of [0, 1]) {
  describe(`a request's fields reach the guest, ${threads ? "on a sandbox thread" : "in process"}`, () => {
    let rt: Runtime;
    let inst: FunctionInstance;
    before(async () => {
      rt = await createRuntime({ threads });
      inst = await rt.load("head", BUNDLE, { limits: ROOMY });
    });
    after(async () => { await rt.close(); });

    for (const c of CASES) {
      test(c.name, async () => {
        const body = c.body === null ? null : new TextEncoder().encode(c.body);
        const o = await inst.fetch({ url: c.url, method: body ? "POST" : "GET", headers: c.headers, body },
          input({ limits: ROOMY, env: c.env, auth: c.auth as never, requestId: c.name }));
        assert.ok(o.ok, JSON.stringify(!o.ok && o.error));
        const u = new URL(c.url);
        assert.deepEqual(await o.value.json(), {
          url: c.url, method: body ? "POST" : "GET", path: u.pathname, search: u.search, q: u.searchParams.get("q"), host: u.host,
          headers: [...new Headers(c.headers)], body: c.body ?? "", env: c.env, requestId: c.name, auth: c.auth,
        });
      });
    }
  });
}

// Workers hand every request the same env object; Hangar does while the
// function's secrets are unchanged (the host builds one frozen env per
// secrets snapshot), and a changed secret arrives as a new object.
const SAME_ENV = fetchBundle(`(() => { let last = null; return (req, env) => {
  const same = env === last;
  last = env;
  let wrote = true;
  try { env.K = "changed"; } catch { wrote = false; }
  return Response.json({ same, frozen: Object.isFrozen(env), wrote, k: env.K });
}; })()`);

for (const threads of [0, 1]) {
  test(`a function's handlers share one frozen env object until it changes, ${threads ? "on a sandbox thread" : "in process"}`, async () => {
    const rt = await createRuntime({ threads });
    try {
      const inst = await rt.load("same-env", SAME_ENV, { limits: ROOMY });
      const call = async (env: Record<string, string>) => {
        const o = await inst.fetch({ url: "http://localhost/", method: "GET", headers: [], body: null }, input({ limits: ROOMY, env }));
        assert.ok(o.ok, JSON.stringify(!o.ok && o.error));
        return (await o.value.json()) as { same: boolean; frozen: boolean; wrote: boolean; k: string };
      };
      const a = Object.freeze({ K: "one" });
      assert.deepEqual(await call(a), { same: false, frozen: true, wrote: false, k: "one" });
      assert.deepEqual(await call(a), { same: true, frozen: true, wrote: false, k: "one" });
      const b = Object.freeze({ K: "two" });
      assert.deepEqual(await call(b), { same: false, frozen: true, wrote: false, k: "two" });
      assert.deepEqual(await call(b), { same: true, frozen: true, wrote: false, k: "two" });
      // an env the host did not freeze is still handed over frozen, with its current values
      const c: Record<string, string> = { K: "three" };
      assert.deepEqual(await call(c), { same: false, frozen: true, wrote: false, k: "three" });
      c.K = "four";
      assert.equal((await call(c)).k, "four");
    } finally {
      await rt.close();
    }
  });
}

// The response goes back the other way as a "response head" string (status,
// statusText, headers, each text field length-prefixed) with its text body
// beside it: whatever characters the fields hold, the host reads them as the
// guest set them.
const HEADS = fetchBundle(`(req) => {
  const kind = new URL(req.url).searchParams.get("kind");
  if (kind === "tricky") {
    const h = new Headers([["x-12", "12:ab:3:"], ["x-empty", ""], ["set-cookie", "a=1; Path=/"], ["set-cookie", "b=2"], ["x-colon", ":"]]);
    return new Response("7:body:", { status: 418, statusText: "3:I'm:a teapot", headers: h });
  }
  if (kind === "none") return new Response(null, { status: 204, headers: { "x-n": "0" } });
  if (kind === "bytes") return new Response(new Uint8Array([1, 2, 3]), { status: 202 });
  return new Response("", { status: 200 });
}`);

for (const threads of [0, 1]) {
  test(`a response's head and text body reach the host as the guest set them, ${threads ? "on a sandbox thread" : "in process"}`, async () => {
    const rt = await createRuntime({ threads });
    try {
      const inst = await rt.load("heads", HEADS, { limits: ROOMY });
      const call = async (kind: string) => {
        const o = await inst.fetch({ url: `http://localhost/?kind=${kind}`, method: "GET", headers: [], body: null }, input({ limits: ROOMY }));
        assert.ok(o.ok, JSON.stringify(!o.ok && o.error));
        return o.value;
      };
      const t = await call("tricky");
      assert.equal(t.status, 418);
      assert.equal(t.statusText, "3:I'm:a teapot");
      assert.equal(t.headers.get("x-12"), "12:ab:3:");
      assert.equal(t.headers.get("x-empty"), "");
      assert.equal(t.headers.get("x-colon"), ":");
      assert.deepEqual(t.headers.getSetCookie(), ["a=1; Path=/", "b=2"]);
      assert.equal(t.headers.get("content-type"), "text/plain;charset=UTF-8");
      assert.equal(await t.text(), "7:body:");
      const n = await call("none");
      assert.equal(n.status, 204);
      assert.equal(n.headers.get("x-n"), "0");
      assert.equal(n.body, null);
      const b = await call("bytes");
      assert.equal(b.status, 202);
      assert.deepEqual([...new Uint8Array(await b.arrayBuffer())], [1, 2, 3]);
      const e = await call("empty");
      assert.equal(e.status, 200);
      assert.equal(await e.text(), "");
    } finally {
      await rt.close();
    }
  });
}

test("a response head string is read back exactly, and a malformed one is refused", () => {
  const headers: [string, string][] = [["a", "1:2"], ["", ""], ["\u0001x", "é\u0001:9:"]];
  const s = encodeResultHead(299, "a:b", headers);
  assert.ok(s.startsWith(RESULT_HEAD));
  assert.deepEqual(decodeResultHead(s), { status: 299, statusText: "a:b", headers });
  assert.deepEqual(decodeResultHead(encodeResultHead(200, "", [])), { status: 200, statusText: "", headers: [] });
  for (const bad of ["", "{\"ok\":true}", RESULT_HEAD, `${RESULT_HEAD}200`, `${RESULT_HEAD}200:`, `${RESULT_HEAD}:0:`, `${RESULT_HEAD}-1:0:`,
    `${RESULT_HEAD}200:5:ab`, `${RESULT_HEAD}200:0:1:a`, `${RESULT_HEAD}200:0:1:a2:b`, `${RESULT_HEAD}2.5:0:`, `${RESULT_HEAD}200:x:`,
    `${RESULT_HEAD}1234567890:0:`]) {
    assert.equal(decodeResultHead(bad), null, JSON.stringify(bad));
  }
});

test("the host's records of parsed URLs answer for their own URL only, past the number it keeps", async () => {
  const rt = await createRuntime({ threads: 0 });
  try {
    const inst = await rt.load("urls", fetchBundle(`(req) => { const u = new URL(req.url); return Response.json([u.pathname, u.searchParams.get("i"), u.hash]); }`), { limits: ROOMY });
    const urls = Array.from({ length: 600 }, (_, i) => `http://localhost/p${i % 300}?i=${i}#h${i % 7}`);
    for (const url of [...urls, ...urls.slice(0, 40)]) {
      const o = await inst.fetch({ url, method: "GET", headers: [], body: null }, input({ limits: ROOMY }));
      assert.ok(o.ok, JSON.stringify(!o.ok && o.error));
      const u = new URL(url);
      assert.deepEqual(await o.value.json(), [u.pathname, u.searchParams.get("i"), u.hash], url);
    }
  } finally {
    await rt.close();
  }
});
