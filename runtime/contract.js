// What the host (Node) and the guest prelude (QuickJS) agree on, used by both:
// the host function names and the value codec. The prelude bundles this file
// (runtime/prelude.ts); the host imports it; runtime/guest/tsconfig.json
// type-checks it. The messages between the main thread and the sandbox
// threads are in runtime/worker/protocol.ts.

/**
 * Host functions the server hands every invocation, served on the main thread
 * (their arguments are in runtime/types.ts, HostFunctions). A binding is added
 * here; the guest's hostCall accepts no other name.
 */
export const HOST_FUNCTION_NAMES = /** @type {const} */ ([
  "sql.query", "sql.begin", "sql.commit", "sql.rollback", "vector.upsert", "vector.search", "vector.remove", "fetch", "fetch.read",
  "cache.match", "cache.put", "cache.delete",
]);

/**
 * Host functions the runtime serves itself, in the sandbox's thread: crypto.subtle (runtime/natives) and
 * "request.read", the next chunk of the invocation's streamed request body (runtime/request-body.ts).
 */
export const BUILTIN_FUNCTION_NAMES = /** @type {const} */ (["hangar:subtle", "request.read"]);

/** @typedef {(typeof HOST_FUNCTION_NAMES)[number] | (typeof BUILTIN_FUNCTION_NAMES)[number]} HostFunctionName */

// The value codec: JSON-like values plus Date, bytes (ArrayBuffer and its
// views arrive as Uint8Array) and bigint (sent as its decimal string).
// Wire format: JSON text plus a list of buffers; tags are objects keyed
// "\u0000t" (d: Date with v = time or null, b: bytes with i = buffer index);
// user keys starting with "\u0000" carry one extra "\u0000".
//
// The interpreter pays dearly for a JSON.stringify replacer or JSON.parse
// reviver (one guest call per key), so values are walked by hand, and copied
// only where a Date, bytes, a bigint or a NUL-led key makes a copy necessary.

const TAG = "\u0000t";

/** The bytes an ArrayBuffer or view covers, as a view (no copy); null for anything else. */
export function bytesOf(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

/**
 * How one side moves bytes: `out` turns bytes found in a value into a wire
 * buffer, `in` turns a wire buffer (or undefined, for an index the wire lacks)
 * back into a Uint8Array.
 * @template B
 * @typedef {{ out: (bytes: Uint8Array) => B, in: (buffer: B | undefined) => Uint8Array }} Wire
 */

/**
 * A JSON-ready copy of `v` (or `v` itself when nothing in it needs a tag).
 * @template B
 * @param {any} v
 * @param {Wire<B>} wire
 * @param {B[]} buffers
 * @param {Set<object>} seen
 * @returns {any}
 */
function prepare(v, wire, buffers, seen) {
  if (v === null || typeof v !== "object") return typeof v === "bigint" ? v.toString() : v;
  if (v instanceof Date) { const t = v.getTime(); return { [TAG]: "d", v: Number.isNaN(t) ? null : t }; }
  const bytes = bytesOf(v);
  if (bytes) {
    buffers.push(wire.out(bytes));
    return { [TAG]: "b", i: buffers.length - 1 };
  }
  if (typeof v.toJSON === "function") return prepare(v.toJSON(), wire, buffers, seen);
  if (seen.has(v)) throw new TypeError("cyclic object value");
  seen.add(v);
  let out = v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = prepare(v[i], wire, buffers, seen);
      if (p !== v[i]) { if (out === v) out = v.slice(); out[i] = p; }
    }
  } else {
    const keys = Object.keys(v);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const x = v[k];
      const p = prepare(x, wire, buffers, seen);
      const nul = k.charCodeAt(0) === 0;
      if (p !== x || nul) {
        // no prototype: a "__proto__" key stays an own property (JSON.stringify writes it like any other)
        if (out === v) { out = Object.create(null); for (let j = 0; j < i; j++) out[keys[j]] = v[keys[j]]; }
      }
      if (out !== v) out[nul ? "\u0000" + k : k] = p;
    }
  }
  seen.delete(v);
  return out;
}

/** @param {unknown} v */
const isPrimitive = (v) => v === null || v === undefined || typeof v === "string" || typeof v === "number" || typeof v === "boolean";

/**
 * Whether `a` holds only primitives and arrays of them: prepare() would return
 * it as it is, so its walk (slow in the interpreter) can be skipped.
 * @param {unknown[]} a
 */
export function flatArray(a) {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (isPrimitive(x)) continue;
    if (!Array.isArray(x)) return false;
    for (let j = 0; j < x.length; j++) if (!isPrimitive(x[j])) return false;
  }
  return true;
}

/** Values their maker vouched for as their own JSON (see markJsonReady). */
const jsonReady = new WeakSet();

/**
 * Vouch that `value`'s JSON.stringify is its encoding (no Date, bytes, bigint,
 * NUL-led key, toJSON or cycle anywhere in it), so encode skips its walk: a
 * host binding that made the value and saw every part of it (SQL rows of
 * strings, numbers, booleans and nulls). Returns `value`.
 * @template {object} T
 * @param {T} value
 * @returns {T}
 */
export function markJsonReady(value) {
  jsonReady.add(/** @type {object} */ (value));
  return value;
}

/**
 * Encode a JSON-like value: its JSON text and the buffers its tags point to.
 * Throws a TypeError for a cycle.
 * @template B
 * @param {unknown} value
 * @param {Wire<B>} wire
 * @returns {[string, B[]]}
 */
export function encode(value, wire) {
  // primitives and arrays of them (a guest's usual host-call arguments: SQL text, parameters, transaction id) are their own JSON
  if (Array.isArray(value) && flatArray(value)) return [JSON.stringify(value), []];
  if (typeof value === "object" && value !== null && jsonReady.has(value)) return [JSON.stringify(value), []];
  /** @type {B[]} */
  const buffers = [];
  const json = JSON.stringify(prepare(value === undefined ? null : value, wire, buffers, new Set()));
  return [json === undefined ? "null" : json, buffers];
}

/**
 * @template B
 * @param {any} v
 * @param {B[]} buffers
 * @param {Wire<B>} wire
 * @returns {unknown}
 */
function revive(v, buffers, wire) {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = revive(v[i], buffers, wire);
    return v;
  }
  const t = v[TAG];
  // the text may come from the other side, which is not trusted: only a number is an index or a time
  if (t === "d") return new Date(typeof v.v === "number" ? v.v : NaN);
  if (t === "b") return wire.in(typeof v.i === "number" ? buffers[v.i] : undefined);
  const keys = Object.keys(v);
  let nul = false;
  for (let i = 0; i < keys.length; i++) if (keys[i].charCodeAt(0) === 0) { nul = true; break; }
  if (!nul) {
    for (let i = 0; i < keys.length; i++) v[keys[i]] = revive(v[keys[i]], buffers, wire);
    return v;
  }
  const out = {};
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i].charCodeAt(0) === 0 ? keys[i].slice(1) : keys[i];
    const x = revive(v[keys[i]], buffers, wire);
    // an own property, as JSON.parse makes it, not the prototype
    if (k === "__proto__") Object.defineProperty(out, k, { value: x, writable: true, enumerable: true, configurable: true });
    else out[k] = x;
  }
  return out;
}

/**
 * Decode what `encode` made (on either side).
 * @template B
 * @param {string} json
 * @param {B[]} buffers
 * @param {Wire<B>} wire
 * @returns {unknown}
 */
export function decode(json, buffers, wire) {
  const value = JSON.parse(json);
  // Tags and escaped keys start with NUL, which JSON text spells \u0000: without one, the plain parse is the answer.
  return json.indexOf("\\u0000") === -1 ? value : revive(value, buffers, wire);
}

// A fetch invocation's request and context as one string ("fetch head"): the
// interpreter splits a string in one native call, where JSON.parse of the same
// fields costs it tens of microseconds per request. Fields, separated by SEP:
// request id, url, method, "1" when the body streams, env and auth (each as
// the codec's JSON), "1" and the 11 fields of the parsed URL (or ""), then each
// header's name and value. A body in bytes is the one buffer.

const SEP = "\u0001";

/** The `kind` an invocation that carries a fetch head is sent under. */
export const FETCH_HEAD = "fetch:head";

/** The fields of a parsed URL as the guest's URL keeps them (guest/url.js), in the order a fetch head carries them. */
export const URL_FIELDS = /** @type {const} */ (["href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"]);

/**
 * @typedef {{ url: string, method: string, headers: [string, string][], stream?: boolean,
 *   parsed: string }} FetchHeadRequest
 * `parsed`: the parsed URL's part of the head (urlHeadPart).
 */

/**
 * The fetch head's fields for a parsed URL ("1" and its fields), or for none ("").
 * A WHATWG URL's fields never hold the separator (every C0 control is percent-encoded or refused).
 * @param {Record<string, string> | null} parsed
 * @returns {string}
 */
export function urlHeadPart(parsed) {
  if (!parsed) return "";
  let s = "1";
  for (const f of URL_FIELDS) s += SEP + parsed[f];
  return s;
}

/**
 * The fetch head of `request`, or null when a field holds the separator or a
 * value needs buffers (the general encoding then carries the invocation).
 * @template B
 * @param {FetchHeadRequest} request
 * @param {string} requestId
 * @param {unknown} env
 * @param {unknown} auth
 * @param {Wire<B>} wire
 * @returns {string | null}
 */
export function encodeFetchHead(request, requestId, env, auth, wire) {
  const e = encodeEnv(env, wire);
  const a = encode(auth, wire);
  if (e[1].length || a[1].length) return null;
  // env and auth are the codec's JSON, which escapes every control character: only the rest is checked
  if (requestId.includes(SEP) || request.url.includes(SEP) || request.method.includes(SEP)) return null;
  let s = requestId + SEP + request.url + SEP + request.method + SEP + (request.stream ? "1" : "") + SEP + e[0] + SEP + a[0] + SEP + request.parsed;
  for (const [k, v] of request.headers) {
    if (typeof k !== "string" || typeof v !== "string" || k.includes(SEP) || v.includes(SEP)) return null;
    s += SEP + k + SEP + v;
  }
  return s;
}

/**
 * The invocation data a fetch head carries: what `decode` gives for the general encoding of the same invocation.
 * @template B
 * @param {string} head
 * @param {B[]} buffers
 * @param {Wire<B>} wire
 */
export function decodeFetchHead(head, buffers, wire) {
  const f = head.split(SEP);
  const hasUrl = f[6] === "1";
  // spelled out in URL_FIELDS order (a literal: one object shape, no loop in the interpreter)
  const parsed = hasUrl
    ? { href: f[7], origin: f[8], protocol: f[9], username: f[10], password: f[11], host: f[12], hostname: f[13], port: f[14], pathname: f[15], search: f[16], hash: f[17] }
    : null;
  /** @type {[string, string][]} */
  const headers = [];
  for (let i = hasUrl ? 7 + URL_FIELDS.length : 7; i + 1 < f.length; i += 2) headers.push([f[i], f[i + 1]]);
  const stream = f[3] === "1";
  /** @type {Record<string, unknown>} */
  const request = { url: f[1], method: f[2], headers, body: buffers.length ? wire.in(buffers[0]) : null, parsed };
  if (stream) request.stream = true;
  return { request, env: decodeEnv(f[4], wire), requestId: f[0], auth: f[5] === "null" ? null : decode(f[5], [], wire) };
}

// A function's env is one frozen object per secrets snapshot (host/secrets):
// the host encodes it once, and the guest decodes it once and hands each
// handler the same frozen object while its text is unchanged, as Workers do.

/** @type {WeakMap<object, [string, unknown[]]>} */
const encodedEnvs = new WeakMap();

/**
 * @template B
 * @param {unknown} env
 * @param {Wire<B>} wire
 * @returns {[string, B[]]}
 */
function encodeEnv(env, wire) {
  if (env === null || typeof env !== "object" || !Object.isFrozen(env)) return encode(env, wire);
  let e = /** @type {[string, B[]] | undefined} */ (encodedEnvs.get(env));
  if (!e) encodedEnvs.set(env, (e = encode(env, wire)));
  return e;
}

/** @type {string | null} */
let lastEnvText = null;
/** @type {unknown} */
let lastEnv = null;

/**
 * @template B
 * @param {string} text
 * @param {Wire<B>} wire
 */
function decodeEnv(text, wire) {
  if (text !== lastEnvText) {
    const env = decode(text, [], wire);
    lastEnv = env !== null && typeof env === "object" ? Object.freeze(env) : env;
    lastEnvText = text;
  }
  return lastEnv;
}

// A fetch handler's response head (status, statusText, headers) as one string,
// for the usual response, whose body is text or none (the text goes beside it):
// the interpreter's JSON.stringify of the same report cost several times this
// concatenation. It starts with RESULT_HEAD, which JSON text never starts with;
// each text field is its length, ":", then the text, so any character may be in it.

export const RESULT_HEAD = "\u0001";

/**
 * @param {number} status
 * @param {string} statusText
 * @param {[string, string][]} headers
 * @returns {string}
 */
export function encodeResultHead(status, statusText, headers) {
  let s = RESULT_HEAD + status + ":" + statusText.length + ":" + statusText;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i];
    s += h[0].length + ":" + h[0] + h[1].length + ":" + h[1];
  }
  return s;
}

/**
 * What encodeResultHead made, or null when `s` is not one (it comes from the guest: never trusted).
 * @param {string} s
 * @returns {{ status: number, statusText: string, headers: [string, string][] } | null}
 */
export function decodeResultHead(s) {
  if (!s.startsWith(RESULT_HEAD)) return null;
  /** @type {[string, string][]} */
  const headers = [];
  let status = -1, statusText = "", name = "", field = 0;
  // fields in order: status (a number), then text fields (statusText, then name and value per header), each "<length>:<text>"
  for (let p = RESULT_HEAD.length; p < s.length || field < 2; field++) {
    const c = s.indexOf(":", p);
    if (c <= p || c - p > 9) return null;
    const n = Number(s.slice(p, c));
    if (!Number.isInteger(n) || n < 0) return null;
    p = c + 1;
    if (field === 0) { status = n; continue; }
    if (p + n > s.length) return null;
    const text = s.slice(p, p + n);
    p += n;
    if (field === 1) statusText = text;
    else if (field % 2 === 0) name = text;
    else headers.push([name, text]);
  }
  // a name without its value is no head
  return status < 0 || field % 2 !== 0 ? null : { status, statusText, headers };
}
