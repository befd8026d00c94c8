// Guest prelude: installs the Web globals, `__hangar`, `Deno`, and returns the
// entry points the host calls (invoke, settle, fireTimer, cleanup, describe).
import { native, bytesOf, bufferOf, evalLib, WIRE } from "./native.js";
import { encode, decode, decodeFetchHead, encodeResultHead, FETCH_HEAD } from "../contract.js";
import { DOMException, Event, EventTarget, AbortController, AbortSignal } from "./events.js";
import { TextEncoder, TextDecoder, atob, btoa } from "./encoding.js";
import { crypto, CryptoKey } from "./crypto.js";
import { URL, URLSearchParams } from "./url.js";
import { Headers, headerPairs } from "./headers.js";
import { Request, Response, hostRequest } from "./body.js";
import { fetch } from "./fetch.js";
import { setTimeout, clearTimeout, setInterval, clearInterval, queueMicrotask, fireTimer, dropTimers } from "./timers.js";
import { structuredClone } from "./clone.js";
import { console } from "./console.js";
import { settle, dropCalls, HOST_ERROR } from "./bridge.js";
import { sql, vector } from "./hangar.js";
import { streamGlobals } from "./streams.js";
import { Blob, File, FormData } from "./forms.js";
import { CustomEvent, MessageEvent, MessageChannel, MessagePort, WebSocket, performance } from "./platform.js";
import { installUint8ArrayCodecs } from "./uint8-codecs.js";
import { globalEvents, FetchEvent, ScheduledEvent } from "./global-events.js";
import { unsupported } from "./unsupported.js";
import { Intl, installLocaleMethods } from "./intl.js";
import { caches, Cache } from "./cache.js";

let denoHandler = null;
const Deno = {
  serve(a, b) {
    const handler = typeof a === "function" ? a : b && typeof b === "function" ? b : a && typeof a.handler === "function" ? a.handler : null;
    if (!handler) throw new TypeError("Deno.serve needs a handler function");
    denoHandler = handler;
    const finished = new Promise(() => {});
    return { finished, shutdown: async () => {}, ref() {}, unref() {}, addr: { hostname: "0.0.0.0", port: 0, transport: "tcp" } };
  },
  // Hangar keeps no event loop alive for a timer: unref/ref have nothing to change
  unrefTimer() {},
  refTimer() {},
  env: {
    get: (name) => native.envGet(String(name)),
    has: (name) => native.envGet(String(name)) !== undefined,
    toObject: () => JSON.parse(native.envAll()),
    set() { throw new Error("Deno.env.set is not supported in Hangar"); },
    delete() { throw new Error("Deno.env.delete is not supported in Hangar"); },
  },
};

unsupported(Deno, "Deno", ["readFile", "readTextFile", "writeFile", "writeTextFile", "open", "openKv", "connect", "connectTls", "listen", "listenTls",
  "serveHttp", "upgradeWebSocket", "run", "Command", "exit", "cwd", "chdir", "mkdir", "remove", "stat", "lstat", "readDir", "makeTempFile", "makeTempDir", "resolveDns", "cron"]);

const EdgeRuntime = Object.freeze({
  waitUntil(p) {
    // after an await the running invocation is unknown: with one in flight it is that one
    const state = current || (invocations.size === 1 ? invocations.values().next().value : null);
    if (!state) throw new Error("EdgeRuntime.waitUntil: call it before the handler's first await while other requests are in flight (or use ctx.waitUntil)");
    state.waits.push(Promise.resolve(p));
  },
});

const globals = {
  DOMException, Event, EventTarget, AbortController, AbortSignal, TextEncoder, TextDecoder, atob, btoa, crypto, CryptoKey,
  URL, URLSearchParams, Headers, Request, Response, fetch, setTimeout, clearTimeout, setInterval, clearInterval,
  queueMicrotask, structuredClone, console, Deno, self: globalThis, EdgeRuntime,
  Intl, Blob, File, FormData, caches, Cache, CustomEvent, MessageEvent, MessageChannel, MessagePort, WebSocket, FetchEvent, ScheduledEvent, performance,
  addEventListener: globalEvents.addEventListener, removeEventListener: globalEvents.removeEventListener, dispatchEvent: globalEvents.dispatchEvent,
  navigator: { userAgent: "Hangar" },
};
for (const [k, v] of Object.entries(globals)) Object.defineProperty(globalThis, k, { value: v, writable: true, configurable: true, enumerable: false });
/** Classes evaluated on first use (streams cost more to set up than most functions need). */
const lazy = { ...streamGlobals(TextDecoder), URLPattern: () => evalLib(__HANGAR_LIB_URLPATTERN__).URLPattern };
for (const [k, get] of Object.entries(lazy)) {
  Object.defineProperty(globalThis, k, {
    get() { const v = get(); Object.defineProperty(globalThis, k, { value: v, writable: true, configurable: true, enumerable: false }); return v; },
    set(v) { Object.defineProperty(globalThis, k, { value: v, writable: true, configurable: true, enumerable: false }); },
    configurable: true, enumerable: false,
  });
}
installUint8ArrayCodecs();
installLocaleMethods();
Object.defineProperty(globalThis, "__hangar", { value: Object.freeze({ sql, vector }), writable: false, configurable: false, enumerable: false });

const STACK_RE = /stack overflow|call stack size/i;

function describeError(e, kind) {
  if (e instanceof Error || (e && typeof e === "object" && "message" in e)) {
    const out = { kind: kind || "threw", name: String(e.name || "Error"), message: String(e.message), stack: typeof e.stack === "string" ? e.stack : undefined };
    if (e.code !== undefined && e.code !== null) out.code = String(e.code);
    if (!kind && e[HOST_ERROR]) out.kind = "host";
    if (!kind && e instanceof RangeError && STACK_RE.test(out.message)) out.kind = "stack";
    if (!kind && e.name === "InternalError" && /out of memory/.test(out.message)) out.kind = "memory";
    return out;
  }
  let message;
  try { message = typeof e === "string" ? e : JSON.stringify(e); } catch { message = String(e); }
  return { kind: kind || "threw", name: "Error", message: `Uncaught ${message}` };
}

function describeValue(v) {
  if (v === null) return "null";
  if (typeof v !== "object") return typeof v;
  return v.constructor && v.constructor.name ? `an instance of ${v.constructor.name}` : "an object";
}

function handlerFor(kind) {
  const ex = globalThis.__hangar_exports || {};
  const def = ex.default;
  if (kind === "fetch") {
    if (typeof def === "function") return (req, env, ctx) => def(req, env, ctx);
    if (def && typeof def.fetch === "function") return (req, env, ctx) => def.fetch(req, env, ctx);
    if (denoHandler) { const h = denoHandler; return (req) => h(req, { remoteAddr: { hostname: "0.0.0.0", port: 0, transport: "tcp" }, completed: new Promise(() => {}) }); }
    if (globalEvents.has("fetch")) return (req, env, ctx) => globalEvents.fetch(req, ctx);
    return null;
  }
  if (kind === "scheduled" && !(def && typeof def.scheduled === "function") && globalEvents.has("scheduled")) return (p, env, ctx) => globalEvents.scheduled(p, ctx);
  if (def && (typeof def === "object" || typeof def === "function") && typeof def[kind] === "function") return (p, env, ctx) => def[kind](p, env, ctx);
  return null;
}

const promiseResolve = Promise.resolve.bind(Promise);
const promiseThen = Function.prototype.call.bind(Promise.prototype.then);

const invocations = new Map();
/** The invocation whose code is running now, for EdgeRuntime.waitUntil (set around each handler call). */
let current = null;

/** Call invocation invId's handler: its value, or a promise of it. */
function start(handler, kind, data, state, invId) {
  const ctx = {
    waitUntil(p) { state.waits.push(Promise.resolve(p)); },
    passThroughOnException() {},
    requestId: data.requestId,
    auth: data.auth,
  };
  // a fetch head's env arrives frozen and is the same object while it is unchanged (contract.js decodeEnv)
  const envObj = data.env !== null && typeof data.env === "object" && Object.isFrozen(data.env) ? data.env : Object.freeze({ ...data.env });
  const arg = kind === "fetch" ? hostRequest(data.request, invId) : data.payload;
  current = state;
  try { return handler(arg, envObj, ctx); } finally { current = null; }
}

/**
 * A fetch handler's Response as the report: for a text body (or none), the
 * response head string (contract.js encodeResultHead) with the text in
 * state.text; else the report object.
 */
function fetchReport(res, state) {
  if (!(res instanceof Response)) return { ok: false, error: { kind: "bad-response", name: "TypeError", message: `fetch handler returned ${describeValue(res)}, not a Response` } };
  if (res.bodyUsed) return { ok: false, error: { kind: "bad-response", name: "TypeError", message: "fetch handler returned a Response whose body was already used" } };
  if (res._plain) {
    const body = res._bytes === null ? null : res._consumeForHost();
    if (body === null || typeof body === "string") {
      state.text = body;
      return encodeResultHead(res.status, res.statusText, res.headers._list);
    }
    return { ok: true, value: { status: res.status, statusText: res.statusText, headers: headerPairs(res.headers), body } };
  }
  // a stream body goes to the client as the host pulls it (see pullBody)
  if (res.body.locked) return { ok: false, error: { kind: "bad-response", name: "TypeError", message: "fetch handler returned a Response whose body stream is locked or disturbed" } };
  res._used = true;
  state.body = { reader: res.body.getReader() };
  state.streamDone = new Promise((resolve) => { state.endStream = resolve; });
  return { ok: true, value: { status: res.status, statusText: res.statusText, headers: headerPairs(res.headers), body: null, stream: true } };
}

/** Run one invocation; reports through native.finish (or native.done, then native.waitDone). */
function invoke(invId, kind, json, ...buffers) {
  const state = { waits: [], text: null };
  invocations.set(invId, state);
  const isFetch = kind === FETCH_HEAD || kind === "fetch";
  const k = isFetch ? "fetch" : kind;
  let started;
  try {
    const handler = handlerFor(k);
    if (!handler) {
      complete(invId, state, { ok: false, error: { kind: "no-handler", name: "Error", message: `the module exports no ${k} handler` } });
      return;
    }
    started = start(handler, k, kind === FETCH_HEAD ? decodeFetchHead(json, buffers, WIRE) : decode(json, buffers, WIRE), state, invId);
  } catch (e) {
    complete(invId, state, { ok: false, error: describeError(e) });
    return;
  }
  // one reaction to the handler's promise (Promise's own, as an await would use, whatever the guest did to the global)
  promiseThen(promiseResolve(started), (value) => {
    let report;
    try { report = isFetch ? fetchReport(value, state) : { ok: true, value: value === undefined ? null : value }; } catch (e) { report = { ok: false, error: describeError(e) }; }
    complete(invId, state, report);
  }, (e) => complete(invId, state, { ok: false, error: describeError(e) }));
}

/** Send invocation invId's report; then, if it streams or has waitUntil work, wait for that and say so. */
function complete(invId, state, report) {
  let enc;
  try {
    // a response head goes with its text body beside it, as the one string after it (in JSON, the interpreter would escape every quote of a JSON body)
    enc = typeof report === "string" ? [report, state.text === null ? [] : [state.text]] : encode(report, WIRE);
  } catch (e) { enc = encode({ ok: false, error: describeError(e) }, WIRE); }
  if (!state.streamDone && state.waits.length === 0) {
    invocations.delete(invId);
    native.finish(invId, enc[0], ...enc[1]);
    return;
  }
  native.done(invId, enc[0], ...enc[1]);
  afterReport(invId, state);
}

async function afterReport(invId, state) {
  if (state.streamDone) await state.streamDone;
  for (let n = 0; n < state.waits.length; ) {
    const batch = state.waits.slice(n);
    n = state.waits.length;
    const results = await Promise.allSettled(batch);
    for (const r of results) if (r.status === "rejected") native.console("error", "waitUntil promise rejected: " + (r.reason && r.reason.stack ? `${r.reason.name}: ${r.reason.message}\n${r.reason.stack}` : String(r.reason)));
  }
  invocations.delete(invId);
  native.waitDone(invId);
}

/**
 * The host wants up to `chunks` more chunks (and about `maxBytes`) of
 * invocation invId's response body: each goes to the host as it is read, the
 * last one marked, so a stream whose chunks are ready at once fills them in
 * one entry into the guest, and one that waits (a timer, a fetch) sends each
 * when it comes.
 */
function pullBody(invId, chunks, maxBytes) {
  const state = invocations.get(invId);
  if (!state || !state.body) return;
  let left = chunks;
  let sent = 0;
  const next = () => state.body.reader.read().then(({ done, value }) => {
    if (done) { native.bodyEnd(invId); finishStream(state); return; }
    const bytes = bytesOf(value);
    if (!bytes) throw new TypeError(`a response body stream must produce Uint8Array chunks, not ${describeValue(value)}`);
    sent += bytes.byteLength;
    const more = --left > 0 && sent < maxBytes;
    native.bodyChunk(invId, bufferOf(bytes), more ? 1 : 0);
    if (more) return next();
  });
  next().catch((e) => {
    const d = describeError(e);
    native.console("error", `response body stream failed: ${d.name}: ${d.message}`);
    native.bodyError(invId, `${d.name}: ${d.message}`);
    finishStream(state);
    state.body.reader.cancel(e).catch(() => {});
  });
}

/** The client went away: cancel the guest's stream (its cancel callback runs) and let the invocation end. */
function cancelBody(invId, reason) {
  const state = invocations.get(invId);
  if (!state || !state.body) return;
  state.body.reader.cancel(reason).catch(() => {});
  finishStream(state);
}

function finishStream(state) {
  if (state.endStream) { const end = state.endStream; state.endStream = null; end(); }
}

function cleanup(invId, json) {
  const state = invocations.get(invId);
  if (state && state.body) { state.body.reader.cancel("the invocation ended").catch(() => {}); finishStream(state); }
  invocations.delete(invId);
  const { calls, timers } = JSON.parse(json);
  dropCalls(calls);
  dropTimers(timers);
}

function describe() {
  const handlers = ["fetch", "scheduled", "event", "notify"].filter((k) => handlerFor(k) !== null);
  let config = null;
  const ex = globalThis.__hangar_exports;
  try { config = ex && ex.config !== undefined ? encode({ v: ex.config }, WIRE)[0] : null; } catch (e) { config = null; }
  return JSON.stringify({ handlers, config });
}

export const entry = { invoke, settle, fireTimer, cleanup, describe, pullBody, cancelBody };
