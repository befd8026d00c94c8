import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createRuntime, HostBindingError, type ConsoleLevel } from "../../runtime/index.ts";
import { LIMITS, ROOMY, input, fetchBundle, moduleBundle, req } from "./helpers.ts";

const rt = await createRuntime();
after(() => rt.close());
let n = 0;

/** Run `body` (an async function body returning a JSON-able value) in a guest and return its JSON. */
async function guest(body: string, host = {}, extra: Parameters<typeof input>[0] = {}): Promise<any> {
  const inst = await rt.load(`api-${n++}`, fetchBundle(`async (request, env, ctx) => Response.json(await (async () => { ${body} })())`), { limits: LIMITS });
  const o = await inst.fetch(req("/t?x=1"), input({ host, ...extra }));
  if (!o.ok) throw new Error(`${o.error.kind}: ${o.error.message}\n${o.error.stack ?? ""}`);
  return o.value.json();
}

test("handler shapes: module object, bare function, Deno.serve, Deno.serve(opts, h)", async () => {
  const shapes = [
    moduleBundle(`const handler = { fetch: async (r, env) => new Response("obj " + env.GREETING) };`),
    moduleBundle(`const handler = async (r, env) => new Response("fn " + env.GREETING);`),
    `Deno.serve(async (r) => new Response("deno " + Deno.env.get("GREETING")));`,
    `Deno.serve({ port: 8000 }, (r) => new Response("deno2 " + new URL(r.url).pathname));`,
  ];
  const want = ["obj hello", "fn hello", "deno hello", "deno2 /t"];
  for (let i = 0; i < shapes.length; i++) {
    const inst = await rt.load(`shape-${i}`, shapes[i], { limits: LIMITS });
    assert.ok(inst.handlers.has("fetch"));
    const o = await inst.fetch(req("/t"), input());
    assert.ok(o.ok);
    assert.equal(await o.value.text(), want[i]);
  }
});

test("dispatch kinds, config, no-handler and bad-response", async () => {
  const src = moduleBundle(`const handler = { async scheduled(e, env, ctx) { return { got: e, rid: ctx.requestId, when: new Date(0) }; }, async event(e) { return e.rows.length; } };
    const config = { schedule: "*/5 * * * *", limits: { cpuMs: 100 }, fn() {} };`, "{ default: handler, config }");
  const inst = await rt.load("kinds", src, { limits: LIMITS });
  assert.deepEqual([...inst.handlers].sort(), ["event", "scheduled"]);
  assert.deepEqual(inst.config, { schedule: "*/5 * * * *", limits: { cpuMs: 100 } });
  const o = await inst.dispatch("scheduled", { cron: "*/5", at: new Date(5) }, input({ requestId: "r9" }));
  assert.ok(o.ok);
  assert.deepEqual(o.value, { got: { cron: "*/5", at: new Date(5) }, rid: "r9", when: new Date(0) });
  const o2 = await inst.dispatch("notify", {}, input());
  assert.ok(!o2.ok && o2.error.kind === "no-handler");
  const o3 = await inst.fetch(req(), input());
  assert.ok(!o3.ok && o3.error.kind === "no-handler");
  const bad = await rt.load("bad", fetchBundle(`async () => ({ status: 200 })`), { limits: LIMITS });
  const o4 = await bad.fetch(req(), input());
  assert.ok(!o4.ok && o4.error.kind === "bad-response");
  const thr = await rt.load("thr", fetchBundle(`async () => { throw Object.assign(new RangeError("nope"), { code: "E1" }); }`), { limits: LIMITS });
  const o5 = await thr.fetch(req(), input());
  assert.ok(!o5.ok && o5.error.kind === "threw" && o5.error.message === "nope" && o5.error.code === "E1" && /fetch|bundle/.test(o5.error.stack ?? ""));
});

test("Headers: repeated set-cookie, combining, iteration order, validation", async () => {
  const out = await guest(`const h = new Headers([["Set-Cookie", "a=1"], ["set-cookie", "b=2"], ["X-B", "1"], ["x-a", " 2 "], ["x-b", "3"]]);
    let bad; try { h.set("bad name", "x"); } catch (e) { bad = e.constructor.name; }
    return { sc: h.getSetCookie(), get: h.get("set-cookie"), xb: h.get("X-B"), entries: [...h], bad };`);
  assert.deepEqual(out, { sc: ["a=1", "b=2"], get: "a=1, b=2", xb: "1, 3", entries: [["set-cookie", "a=1"], ["set-cookie", "b=2"], ["x-a", "2"], ["x-b", "1, 3"]], bad: "TypeError" });
  const inst = await rt.load("cookies", fetchBundle(`async () => { const r = new Response("x"); r.headers.append("set-cookie", "a=1; Path=/"); r.headers.append("set-cookie", "b=2"); return r; }`), { limits: LIMITS });
  const o = await inst.fetch(req(), input());
  assert.ok(o.ok);
  assert.deepEqual(o.value.headers.getSetCookie(), ["a=1; Path=/", "b=2"]);
});

test("Response.json, redirect, clone, status checks; Request.clone and bodies", async () => {
  const out = await guest(`const j = Response.json({ a: 1 }, { status: 201, headers: { "x-y": "z" } });
    const r = Response.redirect("https://example.com/x", 301);
    const c = j.clone();
    const rq = new Request("https://h.test/p", { method: "post", body: "hi", headers: { "content-type": "text/plain" } });
    const rc = rq.clone();
    let used; await rq.text(); try { await rq.text(); } catch (e) { used = e.constructor.name; }
    let range; try { new Response("x", { status: 700 }); } catch (e) { range = e.constructor.name; }
    let getBody; try { new Request("https://h.test", { body: "x" }); } catch (e) { getBody = e.constructor.name; }
    return { j: [j.status, j.headers.get("content-type"), j.headers.get("x-y"), await j.json()], c: await c.text(), r: [r.status, r.headers.get("location")],
      rc: [rc.method, await rc.text(), rq.bodyUsed, rc.bodyUsed], used, range, getBody, ok: new Response(null, { status: 204 }).ok };`);
  assert.deepEqual(out, { j: [201, "application/json", "z", { a: 1 }], c: '{"a":1}', r: [301, "https://example.com/x"], rc: ["POST", "hi", true, true], used: "TypeError", range: "RangeError", getBody: "TypeError", ok: true });
});

test("binary bodies both ways", async () => {
  const inst = await rt.load("bin", fetchBundle(`async (request) => { const b = new Uint8Array(await request.arrayBuffer()); const out = b.map((x) => 255 - x); return new Response(out, { headers: { "content-type": "application/octet-stream" } }); }`), { limits: ROOMY });
  const bytes = new Uint8Array(70000).map((_, i) => i % 256);
  // roomy limits: 70 KB through the interpreter both ways must not meet LIMITS' 500 ms wall on a loaded machine
  const o = await inst.fetch(req("/", { method: "POST", body: bytes }), input({ limits: ROOMY }));
  assert.ok(o.ok, JSON.stringify(!o.ok && o.error));
  const back = new Uint8Array(await o.value.arrayBuffer());
  assert.equal(back.length, bytes.length);
  assert.ok(back.every((x, i) => x === 255 - bytes[i]));
  const host = { fetch: async ([r]: any[]) => ({ status: 200, statusText: "OK", headers: [["content-type", "x/y"], ["set-cookie", "a"], ["set-cookie", "b"]], body: new Uint8Array([...r.body].reverse()), url: r.url, redirected: false }) };
  const out = await guest(`const r = await fetch("https://e.test/x", { method: "PUT", body: new Uint8Array([1, 2, 0, 255]) });
    return { b: [...(await r.bytes())], ct: r.headers.get("content-type"), sc: r.headers.getSetCookie(), url: r.url, st: r.statusText };`, host);
  assert.deepEqual(out, { b: [255, 0, 2, 1], ct: "x/y", sc: ["a", "b"], url: "https://e.test/x", st: "OK" });
});

test("URL agrees with Node's URL on tricky inputs", async () => {
  const cases: [string, string?][] = [
    ["http://EXAMPLE.com:80/a/../b/./c?q=1#f"], ["https://user:pa ss@xn--nxasmq6b.com/"], ["http://ﬁ.com/%7e?a=b c"], ["http://[::ffff:127.0.0.1]:8080/"],
    ["http://0x7f.1/"], ["file:///C:/x/../y"], ["  http://a.b/\t\n"], ["//x.y/z", "https://base.test/p"], ["../up?x#y", "http://h/a/b/c"],
    ["http://a/b?c=d&e=%zz"], ["javascript:alert(1)"], ["http://exa mple.com/"], ["http://1.2.3.4.5/"], ["mailto:x@y.z"], ["http://a:65536/"],
    ["blob:https://a.b/uuid"], ["http://ü.de/ä?ö=ü#ß"], ["non-special://host/p?q"], ["http://a/%2e%2E/b"],
  ];
  const out = await guest(`const cases = ${JSON.stringify(cases)}; return cases.map(([u, b]) => { try { const x = new URL(u, b); return [x.href, x.origin, x.host, x.pathname, x.search, x.hash, x.username, x.password]; } catch (e) { return e.constructor.name; } });`);
  const want = cases.map(([u, b]) => { try { const x = new URL(u, b); return [x.href, x.origin, x.host, x.pathname, x.search, x.hash, x.username, x.password]; } catch (e) { return (e as Error).constructor.name; } });
  assert.deepEqual(out, want);
  const sp = await guest(`const u = new URL("http://h/p?a=1&b=2&a=3"); u.searchParams.append("c", "x y&z"); u.searchParams.delete("b"); const s = new URLSearchParams("q=%20+%2B&r"); s.sort();
    u.hash = "h h"; u.pathname = "/a b"; return [u.href, u.searchParams.getAll("a"), s.toString(), [...s], URL.canParse("nope"), new URLSearchParams({ k: "v" }).toString()];`);
  const u = new URL("http://h/p?a=1&b=2&a=3"); u.searchParams.append("c", "x y&z"); u.searchParams.delete("b"); const s = new URLSearchParams("q=%20+%2B&r"); s.sort(); u.hash = "h h"; u.pathname = "/a b";
  assert.deepEqual(sp, [u.href, u.searchParams.getAll("a"), s.toString(), [...s], false, "k=v"]);
});

test("URLSearchParams and Headers lookups agree with Node's (repeated names, +, pairs and lone surrogates)", async () => {
  const src = `const queries = ["a=1&a=2&b=&c", "?x=a+b&&y==z", "e=\\ud83d\\ude00&f=\\ud83d", "g=%2B+1&g", ""];
    const params = queries.map((q) => { const s = new URLSearchParams(q); return [[...s], s.get("a"), s.get("g"), s.get("missing"), s.has("a"), s.has("a", "2"), s.has("a", "3"), s.has("b", ""), s.getAll("g"), s.toString()]; });
    const h = new Headers([["Accept", "a"], ["x-Two", "1"], ["x-two", "2"], ["set-cookie", "s=1"], ["Set-Cookie", "t=2"]]);
    return [params, [h.get("accept"), h.get("X-TWO"), h.get("set-cookie"), h.get("none"), h.has("ACCEPT"), h.has("none"), [...h]]];`;
  const want = new Function(src)();
  assert.deepEqual(await guest(src), JSON.parse(JSON.stringify(want)));
});

test("encoding, base64, crypto, structuredClone, timers, AbortController", async () => {
  const out = await guest(`const enc = new TextEncoder().encode("héllo €😀");
    const dec = new TextDecoder().decode(enc);
    const d = new TextDecoder(); const part = d.decode(enc.subarray(0, 8), { stream: true }) + d.decode(enc.subarray(8));
    let fatal; try { new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array([0xff])); } catch (e) { fatal = e.constructor.name; }
    let badB64; try { atob("***"); } catch (e) { badB64 = e.name; }
    const dig = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode("abc")));
    const rv = crypto.getRandomValues(new Uint8Array(16));
    const src = { d: new Date(1), m: new Map([[1, { a: [1] }]]), u: new Uint8Array([1, 2]) }; src.self = src;
    const cl = structuredClone(src);
    let cloneErr; try { structuredClone({ f() {} }); } catch (e) { cloneErr = e.name; }
    const order = []; setTimeout(() => order.push(2), 20); const t = setTimeout(() => order.push("x"), 5); clearTimeout(t); setTimeout(() => order.push(1), 1);
    await new Promise((r) => setTimeout(r, 40));
    const ac = new AbortController(); let evt = 0; ac.signal.addEventListener("abort", () => evt++); ac.abort(); ac.abort();
    return { enc: [...enc].length, dec, part, fatal, b: btoa("hi\\xff"), a: atob("aGk="), badB64, dig: [...dig].map((x) => x.toString(16).padStart(2, "0")).join(""),
      rvLen: rv.length, uuid: /^[0-9a-f-]{36}$/.test(crypto.randomUUID()), cl: [cl.self === cl, cl.d.getTime(), cl.m.get(1).a[0], cl.u[1], cl.m !== src.m], cloneErr, order,
      abort: [ac.signal.aborted, ac.signal.reason.name, evt] };`);
  assert.deepEqual(out, { enc: 14, dec: "héllo €😀", part: "héllo €😀", fatal: "TypeError", b: btoa("hi\xff"), a: "hi", badB64: "InvalidCharacterError",
    dig: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", rvLen: 16, uuid: true, cl: [true, 1, 1, 2, true], cloneErr: "DataCloneError", order: [1, 2],
    abort: [true, "AbortError", 1] });
});

test("guest fetch: a signal aborts it with its reason, before or during the call and while the body streams; without one it just answers", async () => {
  let calls = 0;
  const cancelled: unknown[] = [];
  const host = {
    // "/slow" answers after the guest gave up on it; "/stream" answers its start and leaves the rest to "fetch.read"
    // (a host call still pending keeps the invocation open, so none is left pending for good)
    fetch: async (args: unknown[]) => {
      calls++;
      const url = (args[0] as { url: string }).url;
      if (url.endsWith("/slow")) return new Promise((resolve) => setTimeout(() => resolve({ status: 200, statusText: "OK", headers: [], body: new Uint8Array(0), url, redirected: false }), 300));
      if (url.endsWith("/stream")) return { status: 200, statusText: "OK", headers: [], body: new TextEncoder().encode("a"), url, redirected: false, bodyStream: 7 };
      return { status: 200, statusText: "OK", headers: [["x-n", String(calls)]], body: new TextEncoder().encode("ok"), url, redirected: false };
    },
    "fetch.read": async (args: unknown[]) => {
      if (args[1] === "cancel") { cancelled.push(args[0]); return null; }
      return new Promise((resolve) => setTimeout(() => resolve(null), 300));
    },
  };
  const out = await guest(`
    const plain = await fetch("http://up.test/a");
    const fromRequest = await fetch(new Request("http://up.test/b", { headers: { "x-a": "1" } }));
    const before = new AbortController(); before.abort(new Error("early"));
    let early; try { await fetch("http://up.test/a", { signal: before.signal }); } catch (e) { early = e.message; }
    const during = new AbortController();
    const pending = fetch("http://up.test/slow", { signal: during.signal });
    setTimeout(() => during.abort(new Error("stopped")), 1);
    let late; try { await pending; } catch (e) { late = e.message; }
    const viaRequest = new AbortController();
    const r = new Request("http://up.test/slow", { signal: viaRequest.signal });
    const pending2 = fetch(r);
    setTimeout(() => viaRequest.abort(new Error("from the request")), 1);
    let inherited; try { await pending2; } catch (e) { inherited = e.message; }
    const streaming = new AbortController();
    const s = await fetch("http://up.test/stream", { signal: streaming.signal });
    const reader = s.body.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    const next = reader.read();
    streaming.abort(new Error("mid-body"));
    let body; try { await next; } catch (e) { body = e.message; }
    return { plain: [plain.status, await plain.text(), plain.headers.get("x-n"), plain.signal === undefined],
      fromRequest: fromRequest.status, early, late, inherited, first, body };`, host, { limits: ROOMY });
  assert.deepEqual(out, { plain: [200, "ok", "1", true], fromRequest: 200, early: "early", late: "stopped", inherited: "from the request", first: "a", body: "mid-body" });
  assert.equal(calls, 5, "an already aborted signal sends nothing");
  assert.deepEqual(cancelled, [7], "the aborted body's upstream was cancelled");
});

test("crypto.subtle HMAC matches node:crypto and keeps the key opaque", async () => {
  const { createHmac } = await import("node:crypto");
  const out = await guest(`const enc = new TextEncoder();
    const key = await crypto.subtle.importKey("raw", enc.encode("whsec"), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode("payload")));
    const ok = await crypto.subtle.verify("HMAC", key, sig, enc.encode("payload"));
    const bad = await crypto.subtle.verify("HMAC", key, sig, enc.encode("tampered"));
    const signOnly = await crypto.subtle.importKey("raw", enc.encode("k"), { name: "HMAC", hash: { name: "SHA-1" } }, false, ["sign"]);
    let refused; try { await crypto.subtle.verify("HMAC", signOnly, sig, enc.encode("x")); } catch (e) { refused = e.name; }
    let rsa; try { await crypto.subtle.importKey("raw", enc.encode("k"), { name: "RSA-PSS" }, false, ["sign"]); } catch (e) { rsa = e.name; }
    return { hex: [...sig].map((x) => x.toString(16).padStart(2, "0")).join(""), ok, bad, refused, rsa, own: Object.keys(key).sort(), tag: String(key), isKey: key instanceof CryptoKey };`);
  assert.deepEqual(out, {
    hex: createHmac("sha256", "whsec").update("payload").digest("hex"),
    // RSA-PSS without a hash: Node's WebCrypto (which now does the work) refuses it as a TypeError
    ok: true, bad: false, refused: "InvalidAccessError", rsa: "TypeError",
    own: ["algorithm", "extractable", "type", "usages"], tag: "[object CryptoKey]", isKey: true,
  });
});

test("marshalling both ways: nested Date and bytes, NUL-led keys, bigint, toJSON, shared refs, cycles refused", async () => {
  const seen: unknown[] = [];
  const host = { "sql.query": async (args: unknown[]) => { const v = (args[1] as unknown[])[0]; seen.push(v); return v; } };
  const src = moduleBundle(`const handler = { async scheduled(p) {
    const shared = { s: 1 };
    const sent = { list: [new Date(5), new Uint8Array([1, 2]), { deep: [new Date(6)] }], "\\u0000k": "nul", big: 12n, url: new URL("http://a/b"), a: shared, b: shared, undef: undefined, fn() {} };
    const back = await globalThis.__hangar.sql.query("echo", [sent]);
    const cyc = {}; cyc.self = cyc;
    let cycErr; try { await globalThis.__hangar.sql.query("echo", [cyc]); } catch (e) { cycErr = e.name; }
    return { fromHost: p, back: [back.list[0] instanceof Date, back.list[0].getTime(), back.list[1] instanceof Uint8Array, [...back.list[1]], back.list[2].deep[0].getTime(), back["\\u0000k"], back.big, back.url, back.a.s, back.b.s, "undef" in back], cycErr };
  } };`);
  const inst = await rt.load(`marshal-${n++}`, src, { limits: LIMITS });
  const payload = { when: new Date(7), bytes: new Uint8Array([9]), "\u0000x": 1, nested: [{ d: new Date(8) }] };
  const o = await inst.dispatch("scheduled", payload, input({ host }));
  if (!o.ok) throw new Error(o.error.message);
  const v = o.value as any;
  assert.ok(v.fromHost.when instanceof Date && v.fromHost.when.getTime() === 7);
  assert.deepEqual([...v.fromHost.bytes], [9]);
  assert.equal(v.fromHost["\u0000x"], 1);
  assert.equal(v.fromHost.nested[0].d.getTime(), 8);
  assert.deepEqual(v.back, [true, 5, true, [1, 2], 6, "nul", "12", "http://a/b", 1, 1, false]);
  assert.equal(v.cycErr, "TypeError");
  const first = seen[0] as any;
  assert.ok(first.list[0] instanceof Date && first.list[1] instanceof Uint8Array);
  assert.equal(first["\u0000k"], "nul");
});

test("console formats like util.format", async () => {
  const logs: [ConsoleLevel, string][] = [];
  await guest(`console.log("a %s b %d %j", "x", 42, { k: [1] }, { extra: "y" }); console.error(new Error("bad").message); console.warn([1, "s", null]); return 1;`, {}, { logs });
  assert.deepEqual(logs, [["log", `a x b 42 {"k":[1]} { extra: 'y' }`], ["error", "bad"], ["warn", "[ 1, 's', null ]"]]);
});

test("host values: Date and Uint8Array both ways, errors with code/detail, ENOSYS, HostBindingError", async () => {
  const seen: unknown[] = [];
  const host = {
    "sql.query": async (args: unknown[]) => { seen.push(args); return [{ at: new Date(86400000), bytes: Buffer.from([9, 8]), n: 10n, "\u0000t": "d", nested: { arr: [new Uint8Array([1])] } }]; },
    "vector.search": async () => { throw Object.assign(new Error("duplicate key"), { code: "23505", detail: "Key (id)=(1) exists." }); },
    "vector.remove": async () => { throw new HostBindingError("pool exhausted"); },
  };
  const out = await guest(`const { sql, vector } = globalThis.__hangar; const id = 7;
    const rows = await sql\`select * from t where id = \${id} and at > \${new Date(1000)} and b = \${new Uint8Array([1, 2])}\`;
    const r = rows[0];
    let e1; try { await vector.search("c", [1]); } catch (e) { e1 = [e instanceof Error, e.code, e.message, e.detail]; }
    let e2; try { await vector.upsert("c", []); } catch (e) { e2 = e.code; }
    return { at: r.at instanceof Date && r.at.getTime(), bytes: r.bytes instanceof Uint8Array && [...r.bytes], n: r.n, tagKey: r["\\u0000t"], nested: r.nested.arr[0] instanceof Uint8Array, e1, e2 };`, host);
  assert.deepEqual(out, { at: 86400000, bytes: [9, 8], n: "10", tagKey: "d", nested: true, e1: [true, "23505", "duplicate key", "Key (id)=(1) exists."], e2: "ENOSYS" });
  assert.deepEqual(seen[0], ["select * from t where id = $1 and at > $2 and b = $3", [7, new Date(1000), new Uint8Array([1, 2])], null]);
  const upserts: unknown[] = [];
  await guest(`const { vector } = globalThis.__hangar; await vector.upsert("c", [], { metric: "l2" }); await vector.upsert("c", []); return 1;`, {
    "vector.upsert": async (args: unknown[]) => { upserts.push(args); return { count: 0 }; },
  });
  assert.deepEqual(upserts, [["c", [], { metric: "l2" }], ["c", []]], "the metric option reaches the host");
  const inst = await rt.load("hbe", fetchBundle(`async () => { await globalThis.__hangar.vector.remove("c", ["a"]); }`), { limits: LIMITS });
  const o = await inst.fetch(req(), input({ host }));
  assert.ok(!o.ok && o.error.kind === "host" && o.error.message === "pool exhausted");
});

test("a failed host call's error carries the stack of the guest code that called it", async () => {
  const host = { "sql.query": async () => { throw Object.assign(new Error('relation "nowhere" does not exist'), { code: "42P01" }); } };
  const out = await guest(`const { sql } = globalThis.__hangar;
    async function loadOrders() { return await sql\`select * from nowhere\`; }
    try { await loadOrders(); return null; } catch (e) { return { message: e.message, code: e.code, stack: e.stack }; }`, host);
  assert.equal(out.message, 'relation "nowhere" does not exist');
  assert.equal(out.code, "42P01");
  assert.match(out.stack, /^Error: relation "nowhere" does not exist\n/);
  assert.match(out.stack, /at loadOrders \(/, out.stack);
});

test("sql: tagged template, query, begin commits or rolls back", async () => {
  const calls: unknown[] = [];
  const host = {
    "sql.query": async (args: unknown[]) => { calls.push(["q", ...args]); return [{ n: 1 }]; },
    "sql.begin": async () => { calls.push(["begin"]); return "tx1"; },
    "sql.commit": async (args: unknown[]) => { calls.push(["commit", ...args]); return null; },
    "sql.rollback": async (args: unknown[]) => { calls.push(["rollback", ...args]); return null; },
  };
  const out = await guest(`const { sql } = globalThis.__hangar;
    await sql.query("select $1::int + 1 as n", [41]);
    const v = await sql.begin(async (tx) => { await tx\`insert into t values (\${1}, \${"two"})\`; await tx.query("update t set a = $1", [null]); return "done"; });
    let err; try { await sql.begin(async (tx) => { await tx\`select 1\`; throw new Error("abort!"); }); } catch (e) { err = e.message; }
    let notTagged; try { await sql("select 1"); } catch (e) { notTagged = e.constructor.name; }
    return { v, err, notTagged };`, host);
  assert.deepEqual(out, { v: "done", err: "abort!", notTagged: "TypeError" });
  assert.deepEqual(calls, [
    ["q", "select $1::int + 1 as n", [41], null], ["begin"], ["q", "insert into t values ($1, $2)", [1, "two"], "tx1"], ["q", "update t set a = $1", [null], "tx1"], ["commit", "tx1"],
    ["begin"], ["q", "select 1", [], "tx1"], ["rollback", "tx1"],
  ]);
});

test("concurrency: many invocations on one instance interleave host awaits", async () => {
  const inst = await rt.load("conc", fetchBundle(`async (request, env, ctx) => { const id = new URL(request.url).searchParams.get("i"); const a = await globalThis.__hangar.sql.query("a", [id]); await new Promise((r) => setTimeout(r, Number(id) % 5)); const b = await globalThis.__hangar.sql.query("b", [id]); return Response.json({ id, a: a[0], b: b[0], rid: ctx.requestId, env: Deno.env.get("K") }); }`), { limits: ROOMY });
  let inFlight = 0, maxInFlight = 0;
  const host = { "sql.query": async ([text, [id]]: any[]) => { inFlight++; maxInFlight = Math.max(maxInFlight, inFlight); await new Promise((r) => setTimeout(r, 5 + (Number(id) * 7) % 11)); inFlight--; return [`${text}${id}`]; } };
  const N = 50;
  const outs = await Promise.all(Array.from({ length: N }, (_, i) => inst.fetch(req(`/?i=${i}`), input({ host, requestId: `r${i}`, env: { K: `k${i}` }, limits: ROOMY }))));
  for (let i = 0; i < N; i++) {
    const o = outs[i];
    assert.ok(o.ok, !o.ok ? o.error.message : "");
    assert.deepEqual(await o.value.json(), { id: String(i), a: `a${i}`, b: `b${i}`, rid: `r${i}`, env: `k${i}` });
  }
  assert.ok(maxInFlight > 10, `host calls overlapped (${maxInFlight})`);
});

test("isolation: no process, require, host globals; values are copies; functions do not share state", async () => {
  const out = await guest(`const probes = {};
    for (const name of ["process", "require", "module", "Buffer", "global", "__hangar_native", "std", "os", "WebAssembly", "importScripts"]) probes[name] = typeof globalThis[name];
    let dyn; try { await import("fs"); dyn = "imported"; } catch (e) { dyn = "blocked"; }
    let ctorEscape; try { ctorEscape = typeof (Response.constructor.constructor("return this")()).process; } catch (e) { ctorEscape = "threw"; }
    const rows = await globalThis.__hangar.sql.query("x", []);
    const r = rows[0];
    const protoEscape = [r.constructor.constructor("return typeof process")(), Object.getPrototypeOf(r) === Object.prototype];
    globalThis.shared = "from A";
    return { probes, dyn, ctorEscape, protoEscape };`, { "sql.query": async () => [{ a: 1 }] });
  assert.deepEqual(out, { probes: { process: "undefined", require: "undefined", module: "undefined", Buffer: "undefined", global: "undefined", __hangar_native: "undefined", std: "undefined", os: "undefined", WebAssembly: "undefined", importScripts: "undefined" }, dyn: "blocked", ctorEscape: "undefined", protoEscape: ["undefined", true] });
  const other = await guest(`return typeof globalThis.shared;`);
  assert.equal(other, "undefined");
});
