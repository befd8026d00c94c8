// Differential tests: the same Web-API code runs in the sandbox and in Node,
// and must answer the same (streams, Blob/FormData, multipart, URLPattern,
// base64/hex). WebCrypto vectors are in webcrypto.test.ts.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createRuntime } from "../../runtime/index.ts";
import type { ConsoleLevel } from "../../runtime/types.ts";
import { ROOMY, input, fetchBundle, req } from "./helpers.ts";

const rt = await createRuntime();
after(() => rt.close());
let n = 0;

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...a: string[]) => () => Promise<unknown>;

async function inGuest(body: string): Promise<unknown> {
  const inst = await rt.load(`web-${n++}`, fetchBundle(`async () => Response.json(await (async () => { ${body} })())`), { limits: ROOMY });
  const o = await inst.fetch(req("/"), input({ limits: ROOMY }));
  if (!o.ok) throw new Error(`${o.error.kind}: ${o.error.message}\n${o.error.stack ?? ""}`);
  return o.value.json();
}

/** Run `body` in Node and in the guest; both must give the same JSON. */
async function same(body: string): Promise<unknown> {
  const node = JSON.parse(JSON.stringify(await new AsyncFunction(body)()));
  const guest = await inGuest(body);
  assert.deepEqual(guest, node);
  return node;
}

const hex = `const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");`;

test("streams: pull, backpressure, pipeThrough, tee, pipeTo, cancel, errors", async () => {
  const out = await same(`
    const log = [];
    let i = 0;
    const rs = new ReadableStream({ pull(c) { log.push("pull" + i); if (i < 5) c.enqueue(i++); else c.close(); } }, { highWaterMark: 2 });
    await Promise.resolve();
    log.push("desired");
    const doubled = rs.pipeThrough(new TransformStream({ transform(x, c) { c.enqueue(x * 2); } }));
    const [a, b] = doubled.tee();
    const got = [];
    await a.pipeTo(new WritableStream({ write(x) { got.push(x); } }));
    const fromB = [];
    for await (const x of b) fromB.push(x);
    let cancelled;
    const rc = new ReadableStream({ start(c) { c.enqueue("x"); }, cancel(r) { cancelled = String(r); } });
    const reader = rc.getReader();
    const first = await reader.read();
    await reader.cancel("bye");
    let err;
    try { await new ReadableStream({ start(c) { c.error(new TypeError("boom")); } }).getReader().read(); } catch (e) { err = e.name + ":" + e.message; }
    const w = [];
    const ws = new WritableStream({ write(x) { w.push(x); } }, new CountQueuingStrategy({ highWaterMark: 3 }));
    const writer = ws.getWriter();
    const desired = writer.desiredSize;
    await writer.write("a"); await writer.close();
    return { log, got, fromB, first, cancelled, err, desired, w, locked: rs.locked };`);
  assert.deepEqual((out as { got: number[] }).got, [0, 2, 4, 6, 8]);
});

test("streams: text and compression streams, bodies as streams, Response from a stream", async () => {
  await same(`${hex}
    const enc = new TextEncoder();
    const parts = [enc.encode("h\\u00e9"), new Uint8Array([0xe2, 0x82]), new Uint8Array([0xac, 0x21])];
    const text = [];
    await new ReadableStream({ start(c) { for (const p of parts) c.enqueue(p); c.close(); } })
      .pipeThrough(new TextDecoderStream()).pipeTo(new WritableStream({ write(s) { text.push(s); } }));
    const bytes = await new Response(new ReadableStream({ start(c) { c.enqueue("a\\ud83d"); c.enqueue("\\ude00b"); c.close(); } }).pipeThrough(new TextEncoderStream())).arrayBuffer();
    const src = "hello ".repeat(200);
    const round = {};
    for (const f of ["gzip", "deflate", "deflate-raw"]) {
      const z = await new Response(new Blob([src]).stream().pipeThrough(new CompressionStream(f))).arrayBuffer();
      round[f] = (await new Response(new Response(z).body.pipeThrough(new DecompressionStream(f))).text()) === src;
    }
    let bad; try { new CompressionStream("brotli"); } catch (e) { bad = e.name; }
    let corrupt; try { await new Response(new Blob([new Uint8Array([1, 2, 3, 4])]).stream().pipeThrough(new DecompressionStream("gzip"))).text(); } catch (e) { corrupt = e instanceof Error; }
    const r = new Response("body text");
    const s = r.body;
    const reader = s.getReader();
    const chunk = await reader.read();
    reader.releaseLock();
    const used = r.bodyUsed;
    let again; try { await r.text(); } catch (e) { again = e.name; }
    const req = new Request("https://x.test/", { method: "POST", body: new ReadableStream({ start(c) { c.enqueue(enc.encode("streamed")); c.close(); } }), duplex: "half" });
    const cl = new Response(new ReadableStream({ start(c) { c.enqueue(enc.encode("twice")); c.close(); } }));
    const cl2 = cl.clone();
    return { text, bytes: hex(bytes), round, bad, corrupt, chunk: new TextDecoder().decode(chunk.value), used, again, req: await req.text(), clone: [await cl.text(), await cl2.text()] };`);
});

test("Blob, File, FormData and multipart round trips agree with Node", async () => {
  await same(`${hex}
    const b = new Blob(["ab", new Uint8Array([99, 100]), new Blob(["ef"])], { type: "Text/Plain" });
    const sl = b.slice(1, -1, "x/y");
    const f = new File(["data"], "a.txt", { type: "text/plain", lastModified: 42 });
    const fd = new FormData();
    fd.append("name", "va\\nlue");
    fd.append("file", f);
    fd.append("blob", new Blob(["zz"]));
    fd.append("renamed", f, "b\\"q.txt");
    fd.set("name", "x");
    fd.append("multi", "1"); fd.append("multi", "2");
    const entries = [];
    for (const [k, v] of fd) entries.push([k, typeof v === "string" ? v : [v.name, v.type, v.size]]);
    const res = new Response(fd);
    const ct = res.headers.get("content-type");
    const back = await res.formData();
    const backEntries = [];
    for (const [k, v] of back) backEntries.push([k, typeof v === "string" ? v : [v.name, v.type, await v.text()]]);
    const url = await new Response(new URLSearchParams({ a: "1 2", b: "é" })).formData();
    const fromBlob = await new Response(b).blob();
    const req = new Request("https://x.test", { method: "POST", body: fd });
    const reqForm = await req.formData();
    let notForm; try { await new Response("x", { headers: { "content-type": "text/plain" } }).formData(); } catch (e) { notForm = e.name; }
    return {
      b: [b.size, b.type, await b.text()], sl: [sl.type, await sl.text()], f: [f.name, f.lastModified, f.type, f instanceof Blob, Object.prototype.toString.call(f)],
      entries, multipart: /^multipart\\/form-data; boundary=/.test(ct), backEntries, url: [...url], fromBlob: [fromBlob.type, await fromBlob.text()],
      has: [fd.has("multi"), fd.getAll("multi"), fd.get("nope")], reqForm: [...reqForm.keys()], notForm, bytes: hex(await new Blob([new Uint8Array([1, 2])]).arrayBuffer()),
    };`);
});

test("multipart from a real client: Node's FormData encoding parsed in the guest", async () => {
  const fd = new FormData();
  fd.append("title", "three files");
  for (let i = 0; i < 3; i++) fd.append("files", new File([new Uint8Array(3000).fill(i)], `f${i}.bin`, { type: "application/octet-stream" }));
  const r = new Request("http://x/", { method: "POST", body: fd });
  const inst = await rt.load("mp", fetchBundle(`async (request) => { const f = await request.formData(); const files = f.getAll("files");
    return Response.json({ title: f.get("title"), files: await Promise.all(files.map(async (x) => [x.name, x.size, new Uint8Array(await x.arrayBuffer())[2999]])) }); }`), { limits: ROOMY });
  const o = await inst.fetch(r, input({ limits: ROOMY }));
  assert.ok(o.ok, JSON.stringify(!o.ok && o.error));
  assert.deepEqual(await o.value.json(), { title: "three files", files: [["f0.bin", 3000, 0], ["f1.bin", 3000, 1], ["f2.bin", 3000, 2]] });
});

test("URLPattern matches as the spec's polyfill does in Node", async () => {
  const { URLPattern } = await import("urlpattern-polyfill/urlpattern");
  const cases = [
    [{ pathname: "/books/:id" }, "https://x.test/books/42"],
    ["https://*.example.com/:a/*?", "https://api.example.com/v1/rest?x=1"],
    [{ pathname: "/files/:name.:ext" }, "https://h/files/report.pdf"],
    [{ pathname: "/users/:id(\\\\d+)" }, "https://h/users/abc"],
  ];
  const guest = await inGuest(`const cases = ${JSON.stringify(cases)};
    return cases.map(([p, u]) => { const m = new URLPattern(p).exec(u); return m ? { path: m.pathname.groups, host: m.hostname.groups } : null; });`);
  const node = cases.map(([p, u]) => { const m = new URLPattern(p as never).exec(u as string); return m ? { path: m.pathname.groups, host: m.hostname.groups } : null; });
  assert.deepEqual(guest, JSON.parse(JSON.stringify(node)));
});

test("Uint8Array base64/hex, CustomEvent, MessageChannel, structuredClone(Error, Blob, File), performance.now", async () => {
  const out = await inGuest(`const b = Uint8Array.fromBase64("SGVsbG8/Pz8+");
    let bad; try { Uint8Array.fromBase64("***"); } catch (e) { bad = e.name; }
    const ch = new MessageChannel();
    const got = new Promise((r) => { ch.port2.onmessage = (e) => r(e.data); });
    ch.port1.postMessage({ a: [1, 2] });
    const err = structuredClone(new RangeError("r", { cause: 1 }));
    const [blob, file] = structuredClone([new Blob(["bl"], { type: "a/b" }), new File(["fi"], "f.txt", { type: "text/plain", lastModified: 7 })]);
    const t0 = performance.now(); let t1 = t0; while (t1 === t0) t1 = performance.now();
    return { text: new TextDecoder().decode(b), b64: b.toBase64(), url: b.toBase64({ alphabet: "base64url", omitPadding: true }), hex: b.toHex(), fromHex: [...Uint8Array.fromHex("00ff10")], bad,
      ev: new CustomEvent("x", { detail: { y: 1 } }).detail, msg: await got, err: [err instanceof RangeError, err.message, err.cause], subMs: t1 - t0 < 1,
      blobs: [blob instanceof Blob, blob.type, await blob.text(), file instanceof File, file.name, file.type, file.lastModified, await file.text()] };`);
  const b = Buffer.from("SGVsbG8/Pz8+", "base64");
  assert.deepEqual(out, { text: b.toString(), b64: b.toString("base64"), url: b.toString("base64url"), hex: b.toString("hex"), fromHex: [0, 255, 16], bad: "SyntaxError",
    ev: { y: 1 }, msg: { a: [1, 2] }, err: [true, "r", 1], subMs: true, blobs: [true, "a/b", "bl", true, "f.txt", "text/plain", 7, "fi"] });
});

test("fetch-event form, EdgeRuntime.waitUntil, WebSocket exists and fails to connect, unsupported APIs name themselves", async () => {
  const inst = await rt.load("sw", `addEventListener("fetch", (e) => e.respondWith(new Response("sw " + new URL(e.request.url).pathname)));`, { limits: ROOMY });
  assert.ok(inst.handlers.has("fetch"));
  const o = await inst.fetch(req("/p"), input({ limits: ROOMY }));
  assert.ok(o.ok);
  assert.equal(await o.value.text(), "sw /p");
  const logs: [ConsoleLevel, string][] = [];
  const inst2 = await rt.load("misc", fetchBundle(`async () => {
    EdgeRuntime.waitUntil(new Promise((r) => setTimeout(r, 1)).then(() => console.log("waited")));
    const ws = new WebSocket("wss://realtime.test/socket");
    const closed = await new Promise((r) => ws.addEventListener("close", (e) => r(e.reason)));
    const errs = [];
    for (const f of [() => crypto.subtle.getPublicKey(), () => Deno.openKv(), () => Deno.readTextFile("/etc/passwd")]) { try { f(); } catch (e) { errs.push(e.message); } }
    // a member no runtime has is absent to feature checks, and calling it still fails
    let unknownCall = "none"; try { crypto.subtle.foo(); } catch (e) { unknownCall = e.name; }
    const checks = [typeof crypto.subtle.foo, "foo" in crypto.subtle, typeof Deno.foo, typeof crypto.subtle.getPublicKey, "getPublicKey" in crypto.subtle, typeof crypto.subtle.sign, unknownCall];
    Deno.unrefTimer(setTimeout(() => {}, 1));
    return Response.json({ closed, errs, checks, state: ws.readyState });
  }`), { limits: ROOMY });
  let ended!: () => void;
  const over = new Promise<void>((r) => (ended = r));
  const o2 = await inst2.fetch(req("/"), input({ limits: ROOMY, logs, onEnd: () => ended() }));
  assert.ok(o2.ok, JSON.stringify(!o2.ok && o2.error));
  assert.deepEqual(await o2.value.json(), { closed: "WebSocket connections are not supported in Hangar",
    errs: ["crypto.subtle.getPublicKey is not supported in Hangar", "Deno.openKv is not supported in Hangar", "Deno.readTextFile is not supported in Hangar"],
    checks: ["undefined", false, "undefined", "function", true, "function", "TypeError"], state: 3 });
  // the invocation is over only once the EdgeRuntime.waitUntil work has run
  await over;
  assert.deepEqual(logs, [["log", "waited"]]);
});

test("Intl's DateTimeFormat, NumberFormat and Collator work without new; arrays hand locales to their elements", async () => {
  await same(`const errs = [];
    for (const f of [() => Intl.PluralRules("en"), () => Intl.Segmenter("en")]) { try { f(); errs.push("none"); } catch (e) { errs.push(e.name); } }
    class Sub extends Intl.NumberFormat { hello() { return "sub " + this.format(1.5); } }
    return {
      dtf: Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Tokyo" }).resolvedOptions().timeZone,
      dtfFormat: Intl.DateTimeFormat("de-DE", { timeZone: "Europe/Berlin" }).format(new Date(Date.UTC(2024, 6, 1, 22))),
      nf: Intl.NumberFormat("de-DE").format(1234.5), coll: ["z", "ä", "a"].sort(Intl.Collator("sv").compare),
      kinds: [Intl.DateTimeFormat() instanceof Intl.DateTimeFormat, new Intl.NumberFormat() instanceof Intl.NumberFormat, Intl.Collator.name, Intl.NumberFormat.length,
        Intl.NumberFormat.prototype.constructor === Intl.NumberFormat, Object.prototype.toString.call(Intl.Collator())],
      sub: [new Sub("en").hello(), new Sub("en") instanceof Sub],
      errs,
      arrays: [[1234.5, new Date(Date.UTC(1970, 0, 1)), null, undefined, "x", 5n].toLocaleString("de-DE", { timeZone: "UTC" }), [0.5].toLocaleString("en", { style: "percent" }),
        new Float64Array([1234.5, 2]).toLocaleString("de-DE"), [].toLocaleString()],
    };`);
});

test("Intl and toLocale* answer as V8 does (time zones, currencies, collation, plurals, segments)", async () => {
  await same(`const d = new Date(Date.UTC(2024, 0, 15, 23, 5, 7));
    const bad = [];
    for (const f of [() => new Intl.DateTimeFormat("en", { timeZone: "Mars/Base" }), () => new Intl.NumberFormat("en", { style: "currency" }), () => (1).toLocaleString("not a locale!")]) {
      try { f(); bad.push("none"); } catch (e) { bad.push(e.name); }
    }
    const dtf = new Intl.DateTimeFormat("en-GB", { timeZone: "America/New_York", dateStyle: "medium", timeStyle: "short" });
    return {
      dates: [d.toLocaleString("de-DE", { timeZone: "Europe/Berlin" }), d.toLocaleDateString("ja-JP", { timeZone: "Asia/Tokyo" }), d.toLocaleTimeString("en-US", { timeZone: "UTC" }),
        dtf.format(d), dtf.formatToParts(d), dtf.resolvedOptions().timeZone, dtf.formatRange(d, new Date(d.getTime() + 86400000)), new Date(NaN).toLocaleString("en")],
      numbers: [(1234567.891).toLocaleString("de-DE"), (-0).toLocaleString("en"), NaN.toLocaleString("fr"), (12n ** 20n).toLocaleString("en-IN"),
        new Intl.NumberFormat("ja-JP", { style: "currency", currency: "JPY" }).format(5000), new Intl.NumberFormat("en", { notation: "compact" }).formatToParts(1234567),
        new Intl.NumberFormat("en", { style: "unit", unit: "kilometer-per-hour", unitDisplay: "long" }).format(50), new Intl.NumberFormat("en").formatRange(3, 5)],
      collate: [["z", "ä", "a", "Z"].sort(new Intl.Collator("sv").compare), ["z", "ä", "a"].sort(new Intl.Collator("de").compare), "a".localeCompare("B", "en", { sensitivity: "base" }), "ı".toLocaleUpperCase("tr")],
      plural: [new Intl.PluralRules("ar").select(3), new Intl.PluralRules("en", { type: "ordinal" }).select(22), new Intl.PluralRules("en").resolvedOptions().pluralCategories],
      rel: [new Intl.RelativeTimeFormat("es", { numeric: "auto" }).format(1, "day"), new Intl.RelativeTimeFormat("en").formatToParts(-3, "hours")],
      list: [new Intl.ListFormat("de", { type: "disjunction" }).format(["a", "b", "c"])],
      seg: [...new Intl.Segmenter("en", { granularity: "word" }).segment("Hello, world! 👋🏽")].map((s) => [s.segment, s.index, s.isWordLike]),
      graphemes: [...new Intl.Segmenter("en").segment("e\\u0301👨‍👩‍👧")].map((s) => s.segment),
      names: new Intl.DisplayNames("en", { type: "region" }).of("JP"),
      canon: Intl.getCanonicalLocales(["EN-us", "zh-hant-tw"]), supported: Intl.DateTimeFormat.supportedLocalesOf(["fr-CA", "xx-YY"]),
      bad,
    };`);
});

test("Intl.Locale answers as V8 does: properties, Node 20's getters, maximize/minimize, errors, and as other constructors' locales", async () => {
  const out = await same(`const tags = ["en-US", "de-Latn-DE-u-ca-gregory", "zh-Hant-TW", "ar-EG-u-nu-arab", "ja-JP-u-hc-h12", "und", "EN-gb-u-co-phonebk-kf-upper-kn"];
    const fields = ["language", "script", "region", "baseName", "calendar", "collation", "hourCycle", "caseFirst", "numeric", "numberingSystem",
      "calendars", "collations", "hourCycles", "numberingSystems", "textInfo", "timeZones", "weekInfo"];
    const describe = (l) => { const o = { s: l.toString(), max: l.maximize().toString(), min: l.minimize().toString() }; for (const f of fields) o[f] = l[f] === undefined ? "(undefined)" : l[f]; return o; };
    const bad = [];
    for (const f of [() => new Intl.Locale("x!"), () => new Intl.Locale(""), () => new Intl.Locale(), () => new Intl.Locale(5), () => new Intl.Locale(null),
      () => new Intl.Locale("en", { calendar: "!!" }), () => new Intl.Locale("en", { hourCycle: "h25" }), () => Intl.Locale("en")]) {
      try { f(); bad.push("none"); } catch (e) { bad.push(e.name); }
    }
    const de = new Intl.Locale("de", { region: "AT", calendar: "buddhist", hourCycle: "h23", numeric: true, caseFirst: "lower", collation: "phonebk", numberingSystem: "latn" });
    const copy = new Intl.Locale("fr");
    copy.calendars.push("mutated");
    return {
      tags: tags.map((t) => describe(new Intl.Locale(t))), withOptions: describe(de), fromLocale: new Intl.Locale(de, { region: "CH" }).toString(),
      fromObject: new Intl.Locale({ toString() { return "fr-CA"; } }).toString(), bad, kind: [Object.prototype.toString.call(de), de instanceof Intl.Locale, Intl.Locale.length, JSON.stringify(de)],
      copies: copy.calendars.includes("mutated"),
      asLocales: [new Intl.NumberFormat(new Intl.Locale("de")).format(1234.5), new Intl.DateTimeFormat([new Intl.Locale("ja-JP")], { timeZone: "UTC" }).format(new Date(0)),
        Intl.getCanonicalLocales(new Intl.Locale("EN-us")), new Intl.Collator(new Intl.Locale("sv")).resolvedOptions().locale, (1.5).toLocaleString(new Intl.Locale("fr")),
        new Intl.PluralRules(new Intl.Locale("ar")).select(3), Intl.NumberFormat.supportedLocalesOf([new Intl.Locale("fr-CA")])],
    };`);
  assert.equal((out as { tags: { max: string }[] }).tags[5].max, "en-Latn-US");
});

test("Uint8Array.prototype.setFromBase64/setFromHex: read and written as the spec counts them (test262's cases)", async () => {
  // (an absent options crosses as JSON null: the guest passes undefined for it)
  // [input, options, target length, expected { read, written } or the error's name, the target's bytes after (255 = untouched)]
  const cases: [string, object | string | undefined, number, [number, number] | string, number[]][] = [
    ["ZXhhZg==", undefined, 6, [8, 4], [101, 120, 97, 102, 255, 255]],
    ["ZXhhZg==", { lastChunkHandling: "stop-before-partial" }, 6, [8, 4], [101, 120, 97, 102, 255, 255]],
    ["ZXhhZg==", { lastChunkHandling: "strict" }, 6, [8, 4], [101, 120, 97, 102, 255, 255]],
    ["ZXhhZg", { lastChunkHandling: "loose" }, 6, [6, 4], [101, 120, 97, 102, 255, 255]],
    ["ZXhhZg", { lastChunkHandling: "stop-before-partial" }, 6, [4, 3], [101, 120, 97, 255, 255, 255]],
    ["ZXhhZg", { lastChunkHandling: "strict" }, 6, "SyntaxError", [101, 120, 97, 255, 255, 255]],
    ["ZXhhZh==", undefined, 6, [8, 4], [101, 120, 97, 102, 255, 255]],
    ["ZXhhZh==", { lastChunkHandling: "strict" }, 6, "SyntaxError", [101, 120, 97, 255, 255, 255]],
    ["ZXhhZh", { lastChunkHandling: "stop-before-partial" }, 6, [4, 3], [101, 120, 97, 255, 255, 255]],
    ["ZXhhZg=", undefined, 6, "SyntaxError", [101, 120, 97, 255, 255, 255]],
    ["ZXhhZg=", { lastChunkHandling: "stop-before-partial" }, 6, [4, 3], [101, 120, 97, 255, 255, 255]],
    // a target too small: decoding stops before the chunk that would not fit
    ["Zm9vYmFy", undefined, 5, [4, 3], [102, 111, 111, 255, 255]],
    ["Zm9vYmE=", undefined, 4, [4, 3], [102, 111, 111, 255]],
    ["Zm9vYmFy", undefined, 6, [8, 6], [102, 111, 111, 98, 97, 114]],
    ["Zm9vYmE=", undefined, 5, [8, 5], [102, 111, 111, 98, 97]],
    ["Zm9vYmE", undefined, 5, [7, 5], [102, 111, 111, 98, 97]],
    ["Zm9vYmE", { lastChunkHandling: "stop-before-partial" }, 5, [4, 3], [102, 111, 111, 255, 255]],
    ["Zm9vYmFy", undefined, 7, [8, 6], [102, 111, 111, 98, 97, 114, 255]],
    // whitespace and padding count as read
    ["Z g==", undefined, 3, [5, 1], [102, 255, 255]],
    ["Z\tg==", undefined, 3, [5, 1], [102, 255, 255]],
    ["Zm9v \n", undefined, 3, [4, 3], [102, 111, 111]],
    ["Zm9v \n", undefined, 4, [6, 3], [102, 111, 111, 255]],
    // the chunks before an error are written
    ["MjYyZm.9v", undefined, 5, "SyntaxError", [50, 54, 50, 255, 255]],
    ["MjYyZg===", undefined, 5, "SyntaxError", [50, 54, 50, 255, 255]],
    ["x-_y", { alphabet: "base64url" }, 3, [4, 3], [199, 239, 242]],
    ["x-_y", undefined, 3, "SyntaxError", [255, 255, 255]],
    ["Zg==", { alphabet: "other" }, 1, "TypeError", [255]],
    ["Zg==", "loose", 1, "TypeError", [255]],
  ];
  const hexCases: [string, number, [number, number] | string, number[]][] = [
    ["aabbcc", 2, [4, 2], [0xaa, 0xbb]],
    ["aabbzz", 4, "SyntaxError", [0xaa, 0xbb, 255, 255]],
    ["aazz", 1, [2, 1], [0xaa]],
    ["aab", 2, "SyntaxError", [255, 255]],
  ];
  const out = await inGuest(`const run = (t, f) => { try { const r = f(); return [[r.read, r.written], [...t]]; } catch (e) { return [e.name, [...t]]; } };
    return { b64: ${JSON.stringify(cases)}.map(([s, o, n]) => { const t = new Uint8Array(n).fill(255); return run(t, () => t.setFromBase64(s, o ?? undefined)); }),
      hex: ${JSON.stringify(hexCases)}.map(([s, n]) => { const t = new Uint8Array(n).fill(255); return run(t, () => t.setFromHex(s)); }),
      from: [[...Uint8Array.fromBase64("ZXhhZg", { lastChunkHandling: "stop-before-partial" })], [...Uint8Array.fromBase64("Zg = =")], [...Uint8Array.fromHex("0aff")],
        run([], () => Uint8Array.fromBase64("ZXhhZh==", { lastChunkHandling: "strict" }))[0]] };`) as { b64: unknown[]; hex: unknown[]; from: unknown[] };
  assert.deepEqual(out.b64, cases.map(([, , , want, bytes]) => [want, bytes]));
  assert.deepEqual(out.hex, hexCases.map(([, , want, bytes]) => [want, bytes]));
  assert.deepEqual(out.from, [[101, 120, 97], [102], [10, 255], "SyntaxError"]);
});
