// Synchronous host functions the guest prelude captures as `__hangar_native`.
// Web-standard work (URL, text codecs, digests, randomness) is Node's own.
// Every native checks its input and output sizes before working (natives/bounds.ts).
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";
import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import { BOUNDS, boundedReaders, newGuestString } from "./natives/bounds.ts";
import { extraNatives } from "./natives/index.ts";
import type { HostFunctions } from "./types.ts";
import { URL_FIELDS } from "./contract.js";

/** What the natives need from the instance that owns the context. */
export interface NativeHost {
  hostCall(name: string, json: string, buffers: Uint8Array[]): number;
  setTimer(id: number, ms: number): void;
  clearTimer(id: number): void;
  console(level: string, message: string): void;
  envGet(name: string): string | undefined;
  envAll(): Record<string, string>;
  /** The invocation's result; `text`, when given, is a fetch response's text body, sent beside the report's JSON rather than inside it. */
  done(invId: number, json: string, buffers: Uint8Array[], text?: string): void;
  waitDone(invId: number): void;
  /** A streamed response body: the next chunk (`more`: the guest goes on reading for the same pull), its end, or its failure. */
  bodyChunk(invId: number, bytes: Uint8Array, more: boolean): void;
  bodyEnd(invId: number): void;
  bodyError(invId: number, message: string): void;
  /**
   * Whether the running segment is past its CPU or wall deadline (or was
   * interrupted): a native then does no work. A loop of long native calls
   * reaches the engine's interrupt check too rarely to be stopped by it.
   */
  overrun(): boolean;
}

/**
 * Natives that report, schedule or log rather than compute: they must work
 * past a deadline too (ending an invocation reports through them); the rest
 * do no work once the deadline has passed.
 */
const BOOKKEEPING = new Set(["hostCall", "setTimer", "clearTimer", "console", "envGet", "envAll", "done", "waitDone", "finish", "bodyChunk", "bodyEnd", "bodyError", "now", "timeOrigin"]);

/** A parsed URL as the guest's URL keeps it (guest/url.js): its fields as strings. */
export function urlFields(u: URL): Record<string, string> {
  const rec: Record<string, string> = {};
  for (const f of URL_FIELDS) rec[f] = u[f];
  return rec;
}

function urlRecord(u: URL): string {
  return JSON.stringify(urlFields(u));
}

function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

export type NativeFunctions = Record<string, (...args: QuickJSHandle[]) => QuickJSHandle | void>;

/**
 * The natives for ctx, made without touching the context (a snapshot restore
 * registers them under the ids they had), and the host functions the runtime
 * itself serves to this context (e.g. crypto.subtle), consulted when the
 * invocation's own host functions lack a name.
 */
export function nativeTable(ctx: QuickJSContext, host: NativeHost): { fns: NativeFunctions; host: HostFunctions } {
  const start = performance.now();
  const origin = performance.timeOrigin + start;
  const rd = boundedReaders(ctx);
  const str = (h: QuickJSHandle, what: string, cap?: number) => rd.str(h, what, cap);
  const num = (h: QuickJSHandle) => ctx.getNumber(h);
  const bytes = (h: QuickJSHandle, what: string, cap?: number) => rd.bytes(h, what, cap);
  /** A report's buffers, refused when JSON plus buffers pass the report cap. */
  const report = (what: string, json: QuickJSHandle, bufs: QuickJSHandle[]): [string, Uint8Array[]] => {
    const text = str(json, what, BOUNDS.report);
    let total = text.length;
    const out = bufs.map((b) => {
      const v = bytes(b, what, BOUNDS.report - total);
      total += v.byteLength;
      return v;
    });
    return [text, out];
  };
  /**
   * An invocation's result: its report's JSON and buffers, or its JSON and a
   * fetch response's text body as the one string after it (a body inside the
   * JSON would be escaped by the interpreter and parsed here again).
   */
  const result = (id: QuickJSHandle, json: QuickJSHandle, bufs: QuickJSHandle[]) => {
    const what = "the function's result";
    if (bufs.length === 1 && ctx.typeof(bufs[0]) === "string") {
      const text = str(json, what, BOUNDS.report);
      host.done(num(id), text, [], str(bufs[0], what, BOUNDS.report - text.length));
      return;
    }
    const [text, buffers] = report(what, json, bufs);
    host.done(num(id), text, buffers);
  };
  const newBytes = (what: string, b: Uint8Array): QuickJSHandle => {
    rd.output(what, b.byteLength);
    return ctx.newArrayBuffer(arrayBufferOf(b));
  };
  const newString = (what: string, s: string): QuickJSHandle => {
    rd.output(what, s.length);
    return newGuestString(ctx, s);
  };
  const errorObject = (message: string): QuickJSHandle => {
    const o = ctx.newObject();
    ctx.newString(message.slice(0, 4096)).consume((m) => ctx.setProp(o, "error", m));
    return o;
  };

  const extra = extraNatives(ctx, { str, bytes, num, newBytes, newString, errorObject });
  const fns: NativeFunctions = {
    hostCall: (name, json, ...bufs) => {
      const [text, buffers] = report("host call", json, bufs);
      return ctx.newNumber(host.hostCall(str(name, "host call name", 256), text, buffers));
    },
    setTimer: (id, ms) => host.setTimer(num(id), num(ms)),
    clearTimer: (id) => host.clearTimer(num(id)),
    console: (level, msg) => {
      const n = ctx.typeof(msg) === "string" ? ctx.getProp(msg, "length").consume((l) => ctx.getNumber(l)) : 0;
      // the guest's console cuts long lines first; a longer one is replaced, never copied whole
      if (n > BOUNDS.console) { host.console(str(level, "console level", 16), `[a console line of ${n} characters was dropped: over Hangar's limit of ${BOUNDS.console}]`); return; }
      host.console(str(level, "console level", 16), str(msg, "console", BOUNDS.console));
    },
    envGet: (name) => {
      const v = host.envGet(str(name, "Deno.env.get", 4096));
      return v === undefined ? ctx.undefined : newGuestString(ctx, v);
    },
    envAll: () => ctx.newString(JSON.stringify(host.envAll())),
    done: (id, json, ...bufs) => result(id, json, bufs),
    waitDone: (id) => host.waitDone(num(id)),
    // done + waitDone in one crossing: the usual invocation has no waitUntil work and no stream
    finish: (id, json, ...bufs) => {
      result(id, json, bufs);
      host.waitDone(num(id));
    },
    bodyChunk: (id, buf, more) => host.bodyChunk(num(id), bytes(buf, "response body chunk"), more !== undefined && ctx.typeof(more) === "number" && num(more) === 1),
    bodyEnd: (id) => host.bodyEnd(num(id)),
    bodyError: (id, msg) => host.bodyError(num(id), str(msg, "response body error", 4096)),
    urlParse: (input, base) => {
      const b = base === undefined || ctx.typeof(base) === "undefined" ? undefined : str(base, "URL base", BOUNDS.url);
      const s = str(input, "URL", BOUNDS.url);
      try { return ctx.newString(urlRecord(new URL(s, b))); } catch { return ctx.null; }
    },
    urlSet: (href, field, value) => {
      const u = new URL(str(href, "URL", BOUNDS.url));
      const f = str(field, "URL field", 16);
      if ((URL_FIELDS as readonly string[]).includes(f) && f !== "origin") (u as unknown as Record<string, string>)[f] = str(value, `URL ${f}`, BOUNDS.url);
      return newString("URL", urlRecord(u));
    },
    searchParamsParse: (s) => newString("URLSearchParams", JSON.stringify([...new URLSearchParams(str(s, "URLSearchParams", BOUNDS.text / 4))])),
    // percent-encoding at most triples the text
    searchParamsSerialize: (json) => newString("URLSearchParams", new URLSearchParams(JSON.parse(str(json, "URLSearchParams", BOUNDS.output / 3)) as [string, string][]).toString()),
    // UTF-8 takes at most 3 bytes per UTF-16 unit
    utf8Encode: (s) => newBytes("TextEncoder.encode", Buffer.from(str(s, "TextEncoder.encode", BOUNDS.output / 3), "utf8")),
    decoderEncoding: (label) => {
      try { return ctx.newString(new TextDecoder(str(label, "TextDecoder label", 64)).encoding); } catch { return ctx.null; }
    },
    textDecode: (buf, enc, fatal, ignoreBOM) => {
      // a decoded unit (U+FFFD at worst) takes up to 3 bytes when put back into the guest
      const input = bytes(buf, "TextDecoder.decode", BOUNDS.output / 3);
      try {
        const d = new TextDecoder(str(enc, "TextDecoder encoding", 64), { fatal: ctx.dump(fatal) === true, ignoreBOM: ctx.dump(ignoreBOM) === true });
        return newString("TextDecoder.decode", d.decode(input));
      } catch (e) {
        return errorObject(e instanceof Error ? e.message : String(e));
      }
    },
    // base64 grows its input by 4/3
    btoa: (s) => {
      const input = str(s, "btoa", Math.floor((BOUNDS.output / 4) * 3));
      try { return ctx.newString(btoa(input)); } catch (e) { return errorObject(e instanceof Error ? e.message : String(e)); }
    },
    atob: (s) => {
      const input = str(s, "atob", BOUNDS.text);
      try { return newString("atob", atob(input)); } catch (e) { return errorObject(e instanceof Error ? e.message : String(e)); }
    },
    digest: (alg, buf) => ctx.newArrayBuffer(arrayBufferOf(createHash(str(alg, "digest algorithm", 32)).update(bytes(buf, "crypto.subtle.digest")).digest())),
    hmac: (alg, key, buf) => ctx.newArrayBuffer(arrayBufferOf(createHmac(str(alg, "HMAC hash", 32), bytes(key, "HMAC key", 1024 * 1024)).update(bytes(buf, "HMAC data")).digest())),
    randomBytes: (n) => ctx.newArrayBuffer(arrayBufferOf(randomBytes(Math.max(0, Math.min(65536, num(n) || 0))))),
    randomUUID: () => ctx.newString(randomUUID()),
    // relative to this instance's own start: a snapshot must not carry another instance's clock
    now: () => ctx.newNumber(performance.now() - start),
    timeOrigin: () => ctx.newNumber(origin),
    base64Encode: (buf, url) => {
      const b = bytes(buf, "Uint8Array.prototype.toBase64", Math.floor((BOUNDS.output / 4) * 3));
      const s = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
      // Node's "base64url" drops the padding; the ES method keeps it unless asked
      return ctx.newString(ctx.dump(url) === true ? s.replace(/\+/g, "-").replace(/\//g, "_") : s);
    },
    base64Decode: (s) => newBytes("Uint8Array.fromBase64", Buffer.from(str(s, "Uint8Array.fromBase64"), "base64")),
    hexEncode: (buf) => ctx.newString(Buffer.from(bytes(buf, "Uint8Array.prototype.toHex", BOUNDS.output / 2)).toString("hex")),
    hexDecode: (s) => newBytes("Uint8Array.fromHex", Buffer.from(str(s, "Uint8Array.fromHex"), "hex")),
    ...extra.natives,
  };
  for (const [name, fn] of Object.entries(fns)) {
    if (BOOKKEEPING.has(name)) continue;
    fns[name] = (...args: QuickJSHandle[]) => {
      if (host.overrun()) throw new RangeError("the invocation is past its time limit");
      return fn(...args);
    };
  }
  return { fns, host: extra.host };
}

/** Install `globalThis.__hangar_native` in ctx; returns what nativeTable does. */
export function installNatives(ctx: QuickJSContext, host: NativeHost): { fns: NativeFunctions; host: HostFunctions } {
  const table = nativeTable(ctx, host);
  const { fns } = table;
  const obj = ctx.newObject();
  try {
    for (const [name, fn] of Object.entries(fns)) {
      ctx.newFunction(name, fn).consume((h) => ctx.setProp(obj, name, h));
    }
    ctx.setProp(ctx.global, "__hangar_native", obj);
  } finally {
    obj.dispose();
  }
  return table;
}
