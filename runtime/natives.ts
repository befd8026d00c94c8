// Synchronous host functions the guest prelude captures as `__hangar_native`.
// Web-standard work (URL, text codecs, digests, randomness) is Node's own.
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";
import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";

/** What the natives need from the instance that owns the context. */
export interface NativeHost {
  hostCall(name: string, json: string, buffers: Uint8Array[]): number;
  setTimer(id: number, ms: number): void;
  clearTimer(id: number): void;
  console(level: string, message: string): void;
  envGet(name: string): string | undefined;
  envAll(): Record<string, string>;
  done(invId: number, json: string, buffers: Uint8Array[]): void;
  waitDone(invId: number): void;
}

const URL_FIELDS = ["href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"] as const;

function urlRecord(u: URL): string {
  const rec: Record<string, string> = {};
  for (const f of URL_FIELDS) rec[f] = u[f];
  return JSON.stringify(rec);
}

function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Install `globalThis.__hangar_native` in ctx. */
export function installNatives(ctx: QuickJSContext, host: NativeHost): void {
  const str = (h: QuickJSHandle) => ctx.getString(h);
  const num = (h: QuickJSHandle) => ctx.getNumber(h);
  const bytes = (h: QuickJSHandle): Uint8Array => {
    const lifetime = ctx.getArrayBuffer(h);
    try { return lifetime.value.slice(); } finally { lifetime.dispose(); }
  };
  const errorObject = (message: string): QuickJSHandle => {
    const o = ctx.newObject();
    ctx.newString(message).consume((m) => ctx.setProp(o, "error", m));
    return o;
  };

  const fns: Record<string, (...args: QuickJSHandle[]) => QuickJSHandle | void> = {
    hostCall: (name, json, ...bufs) => ctx.newNumber(host.hostCall(str(name), str(json), bufs.map(bytes))),
    setTimer: (id, ms) => host.setTimer(num(id), num(ms)),
    clearTimer: (id) => host.clearTimer(num(id)),
    console: (level, msg) => host.console(str(level), str(msg)),
    envGet: (name) => {
      const v = host.envGet(str(name));
      return v === undefined ? ctx.undefined : ctx.newString(v);
    },
    envAll: () => ctx.newString(JSON.stringify(host.envAll())),
    done: (id, json, ...bufs) => host.done(num(id), str(json), bufs.map(bytes)),
    waitDone: (id) => host.waitDone(num(id)),
    urlParse: (input, base) => {
      const b = base === undefined || ctx.typeof(base) === "undefined" ? undefined : str(base);
      try { return ctx.newString(urlRecord(new URL(str(input), b))); } catch { return ctx.null; }
    },
    urlSet: (href, field, value) => {
      const u = new URL(str(href));
      const f = str(field);
      if ((URL_FIELDS as readonly string[]).includes(f) && f !== "origin") (u as unknown as Record<string, string>)[f] = str(value);
      return ctx.newString(urlRecord(u));
    },
    searchParamsParse: (s) => ctx.newString(JSON.stringify([...new URLSearchParams(str(s))])),
    searchParamsSerialize: (json) => ctx.newString(new URLSearchParams(JSON.parse(str(json)) as [string, string][]).toString()),
    utf8Encode: (s) => ctx.newArrayBuffer(arrayBufferOf(Buffer.from(str(s), "utf8"))),
    decoderEncoding: (label) => {
      try { return ctx.newString(new TextDecoder(str(label)).encoding); } catch { return ctx.null; }
    },
    textDecode: (buf, enc, fatal, ignoreBOM) => {
      try {
        const d = new TextDecoder(str(enc), { fatal: ctx.dump(fatal) === true, ignoreBOM: ctx.dump(ignoreBOM) === true });
        return ctx.newString(d.decode(bytes(buf)));
      } catch (e) {
        return errorObject(e instanceof Error ? e.message : String(e));
      }
    },
    btoa: (s) => {
      try { return ctx.newString(btoa(str(s))); } catch (e) { return errorObject(e instanceof Error ? e.message : String(e)); }
    },
    atob: (s) => {
      try { return ctx.newString(atob(str(s))); } catch (e) { return errorObject(e instanceof Error ? e.message : String(e)); }
    },
    digest: (alg, buf) => ctx.newArrayBuffer(arrayBufferOf(createHash(str(alg)).update(bytes(buf)).digest())),
    hmac: (alg, key, buf) => ctx.newArrayBuffer(arrayBufferOf(createHmac(str(alg), bytes(key)).update(bytes(buf)).digest())),
    randomBytes: (n) => ctx.newArrayBuffer(arrayBufferOf(randomBytes(Math.max(0, Math.min(65536, num(n)))))),
    randomUUID: () => ctx.newString(randomUUID()),
  };

  const obj = ctx.newObject();
  try {
    for (const [name, fn] of Object.entries(fns)) {
      ctx.newFunction(name, fn).consume((h) => ctx.setProp(obj, name, h));
    }
    ctx.setProp(ctx.global, "__hangar_native", obj);
  } finally {
    obj.dispose();
  }
}
