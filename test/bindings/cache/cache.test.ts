// The Workers Cache API run inside the sandbox, on the host's store: put,
// match and delete round trips (on a sandbox thread and in process), the
// header policy, expiry on the store's clock, isolation between functions,
// the entry cap and the LRU's byte cap.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createRuntime, type Runtime } from "../../../runtime/index.ts";
import type { HostFunctions } from "../../../runtime/types.ts";
import { CacheStore, createCacheBindings } from "../../../host/bindings/cache/index.ts";
import { ROOMY, input, fetchBundle, req } from "../../runtime/helpers.ts";

const threaded = await createRuntime();
const inProcess = await createRuntime({ threads: 0 });
after(async () => { await threaded.close(); await inProcess.close(); });
let n = 0;

/** Run `body` as a fresh instance's fetch handler (its JSON result returned), with `host` as its host functions. */
async function inGuest(host: HostFunctions, body: string, rt: Runtime = threaded): Promise<any> {
  const inst = await rt.load(`cache-${n++}`, fetchBundle(`async () => Response.json(await (async () => { ${body} })())`), { limits: ROOMY });
  const o = await inst.fetch(req("/"), input({ limits: ROOMY, host }));
  if (!o.ok) throw new Error(`${o.error.kind}: ${o.error.message}\n${o.error.stack ?? ""}`);
  return o.value.json();
}

const errName = `const errOf = async (f) => { try { await f(); return "none"; } catch (e) { return e.name + ": " + e.message; } };`;

for (const [where, rt] of [["on a sandbox thread", threaded], ["in process", inProcess]] as const) {
  test(`put, match and delete round trip ${where}; only GET is cached`, async () => {
    const host = createCacheBindings(new CacheStore(), "fn");
    const out = await inGuest(host, `${errName}
      const c = caches.default;
      await c.put("https://x.test/a", new Response("hello", { status: 203, headers: { "content-type": "text/plain", "x-v": "1" } }));
      const hit = await c.match(new Request("https://x.test/a"));
      const named = await caches.open("other");
      const elsewhere = await named.match("https://x.test/a");
      await named.put(new Request("https://x.test/a"), new Response(new Uint8Array([1, 2, 3])));
      const post = new Request("https://x.test/a", { method: "POST" });
      return {
        hit: [hit.status, await hit.text(), hit.headers.get("content-type"), hit.headers.get("x-v"), hit.headers.get("cf-cache-status")],
        again: await (await c.match("https://x.test/a")).text(), miss: await c.match("https://x.test/none") === undefined, elsewhere: elsewhere === undefined,
        named: [...new Uint8Array(await (await named.match("https://x.test/a")).arrayBuffer())],
        post: [await errOf(() => c.put(post, new Response("x"))), await c.match(post) === undefined, (await c.match(post, { ignoreMethod: true })).status, await c.delete(post)],
        deleted: [await c.delete("https://x.test/a"), await c.delete("https://x.test/a"), await c.match("https://x.test/a") === undefined, (await named.match("https://x.test/a")).status],
        kinds: [typeof caches.open, Object.prototype.toString.call(c)],
      };`, rt);
    assert.deepEqual(out, {
      hit: [203, "hello", "text/plain", "1", "HIT"], again: "hello", miss: true, elsewhere: true, named: [1, 2, 3],
      post: ["TypeError: Cannot cache response to non-GET request.", true, 203, false],
      deleted: [true, false, true, 200], kinds: ["function", "[object Cache]"],
    });
  });
}

test("put honours Cache-Control, Expires and Set-Cookie; 206 and Vary: * are refused", async () => {
  let now = Date.UTC(2026, 0, 1);
  const store = new CacheStore({ now: () => now });
  const host = createCacheBindings(store, "fn");
  const at = (ms: number) => new Date(ms).toUTCString();
  const out = await inGuest(host, `${errName}
    const c = caches.default;
    const put = (path, headers, status = 200) => c.put("https://x.test/" + path, new Response(status === 204 ? null : "b", { status, headers }));
    await put("no-store", { "cache-control": "public, no-store" });
    await put("no-cache", { "cache-control": "no-cache" });
    await put("private", { "cache-control": "private, max-age=60" });
    await put("cookie", { "cache-control": "max-age=60", "set-cookie": "a=1" });
    await put("cookie-ok", { "cache-control": "max-age=60, private=Set-Cookie", "set-cookie": "a=1", "x-keep": "y" });
    await put("zero", { "cache-control": "max-age=0" });
    await put("s-maxage", { "cache-control": "max-age=0, s-maxage=60" });
    await put("expired", { expires: ${JSON.stringify(at(now - 1000))} });
    await put("expires", { expires: ${JSON.stringify(at(now + 60_000))} });
    await put("default-200", {});
    await put("default-500", {}, 500);
    const found = {};
    for (const p of ["no-store", "no-cache", "private", "cookie", "cookie-ok", "zero", "s-maxage", "expired", "expires", "default-200", "default-500"]) found[p] = (await c.match("https://x.test/" + p)) !== undefined;
    const kept = await c.match("https://x.test/cookie-ok");
    return {
      found, cookie: [kept.headers.get("set-cookie"), kept.headers.get("x-keep")],
      refused: [await errOf(() => put("range", { "content-range": "bytes 0-0/1" }, 206)), await errOf(() => put("vary", { vary: "accept, *" }))],
    };`);
  assert.deepEqual(out, {
    found: { "no-store": false, "no-cache": false, private: false, cookie: false, "cookie-ok": true, zero: false, "s-maxage": true, expired: false, expires: true, "default-200": true, "default-500": false },
    cookie: [null, "y"],
    refused: ["TypeError: Cannot cache response to a range request (206 Partial Content).", "TypeError: Cannot cache response with 'Vary: *' header."],
  });
});

test("an entry expires on the store's clock: max-age=1 is answered until a second has passed", async () => {
  let now = 1_000_000;
  const host = createCacheBindings(new CacheStore({ now: () => now }), "fn");
  await inGuest(host, `await caches.default.put("https://x.test/t", new Response("fresh", { headers: { "cache-control": "max-age=1" } })); return null;`);
  const look = `const r = await caches.default.match("https://x.test/t"); return r ? await r.text() : null;`;
  assert.equal(await inGuest(host, look), "fresh");
  now += 999;
  assert.equal(await inGuest(host, look), "fresh");
  now += 1;
  assert.equal(await inGuest(host, look), null);
});

test("functions never see each other's entries; two instances of one function share them", async () => {
  const store = new CacheStore();
  const a = createCacheBindings(store, "fn-a");
  const b = createCacheBindings(store, "fn-b");
  await inGuest(a, `await caches.default.put("https://x.test/k", new Response("from a")); await (await caches.open("c")).put("https://x.test/k", new Response("a named")); return null;`);
  const look = `const d = await caches.default.match("https://x.test/k"); const c = await (await caches.open("c")).match("https://x.test/k");
    return [d ? await d.text() : null, c ? await c.text() : null, await caches.default.delete("https://x.test/k")];`;
  assert.deepEqual(await inGuest(b, look), [null, null, false]);
  // another instance (maybe on the other sandbox thread) of function a, and a's in-process instance
  assert.deepEqual(await inGuest(a, `const d = await caches.default.match("https://x.test/k"); return d ? await d.text() : null;`), "from a");
  assert.deepEqual(await inGuest(a, `const d = await caches.default.match("https://x.test/k"); return d ? await d.text() : null;`, inProcess), "from a");
  assert.deepEqual(await inGuest(b, look), [null, null, false]);
});

test("an entry over the per-entry cap fails naming the limit; the store stays within its byte cap, evicting the least recently used", async () => {
  const store = new CacheStore({ maxBytes: 64 * 1024, maxEntryBytes: 16 * 1024 });
  const host = createCacheBindings(store, "fn");
  const out = await inGuest(host, `
    let err; try { await caches.default.put("https://x.test/big", new Response(new Uint8Array(20 * 1024))); } catch (e) { err = [e.name, e.code, e.message]; }
    for (let i = 0; i < 6; i++) {
      await caches.default.put("https://x.test/" + i, new Response(new Uint8Array(15 * 1024)));
      if (i >= 1) await caches.default.match("https://x.test/0");
    }
    const left = [];
    for (let i = 0; i < 6; i++) left.push((await caches.default.match("https://x.test/" + i)) !== undefined);
    return { err, left };`);
  assert.equal(out.err[0], "RangeError");
  assert.equal(out.err[1], "CACHE_ENTRY_TOO_LARGE");
  assert.match(out.err[2], /over Hangar's limit of 16384 bytes per cache entry/);
  // four 15 KiB entries fit in 64 KiB: 0 stays (used after every put), 1 and 2 went first
  assert.deepEqual(out.left, [true, false, false, true, true, true]);
  assert.ok(store.stats().bytes <= 64 * 1024);
});
