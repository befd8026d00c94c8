// A request reaches the guest as one string it splits (the "fetch head", see
// runtime/contract.js) unless a field holds the separator or env/auth need
// buffers; then the general encoding carries it. Either way the guest must see
// the same request, env, requestId and auth, in process and on a sandbox thread.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createRuntime, type FunctionInstance, type Runtime } from "../../runtime/index.ts";
import { fetchBundle, input, ROOMY } from "./helpers.ts";

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
