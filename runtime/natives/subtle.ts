// crypto.subtle: Node's own WebCrypto does the work, on the host, with keys
// kept here as opaque handles (the guest holds only an id and the key's
// public description). Reached through the async host-call path, as
// WebCrypto is async anyway.
import { createHmac, KeyObject, timingSafeEqual, webcrypto } from "node:crypto";
import type { QuickJSContext } from "quickjs-emscripten-core";
import type { HostFunctions } from "../types.ts";
import type { NativeFns, NativeTools } from "./index.ts";

type Key = webcrypto.CryptoKey;
// Node loads its WebCrypto internals on first use (~100 ms): do it at startup, not in a guest's first request
void webcrypto.subtle.importKey("raw", new Uint8Array(16), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]).catch(() => {});
const subtle = webcrypto.subtle as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;

/** Keys one instance may hold at once (freed when the guest's CryptoKey is collected). */
const MAX_KEYS = 10_000;
/** Work caps: the host's thread pool must not be tied up by one guest. */
const MAX_RSA_BITS = 8192;
const MAX_PBKDF2_ITERATIONS = 10_000_000;
const MAX_DERIVE_BITS = 8192 * 8;

const OPS: Record<string, number> = {
  digest: 2, encrypt: 3, decrypt: 3, sign: 3, verify: 4, deriveBits: 3, deriveKey: 5,
  importKey: 5, exportKey: 2, generateKey: 3, wrapKey: 4, unwrapKey: 7,
};

class KeyStore {
  private keys = new Map<number, Key>();
  private next = 1;
  add(k: Key): number {
    if (this.keys.size >= MAX_KEYS) throw Object.assign(new Error(`more than ${MAX_KEYS} CryptoKeys are alive in this function`), { name: "OperationError" });
    const id = this.next++;
    this.keys.set(id, k);
    return id;
  }
  get(id: unknown): Key {
    const k = typeof id === "number" ? this.keys.get(id) : undefined;
    if (!k) throw Object.assign(new TypeError("the CryptoKey is not valid in this function"), { name: "TypeError" });
    return k;
  }
  free(id: number): void { this.keys.delete(id); }
}

function describeKey(store: KeyStore, k: Key) {
  return { __hangarKey: store.add(k), type: k.type, extractable: k.extractable, algorithm: k.algorithm, usages: k.usages };
}

/** Replace guest key references ({ __hangarKey: id }) with the host's keys, recursively through plain objects. */
function revive(store: KeyStore, v: unknown): unknown {
  if (v === null || typeof v !== "object" || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map((x) => revive(store, x));
  const o = v as Record<string, unknown>;
  if ("__hangarKey" in o) return store.get(o.__hangarKey);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = revive(store, x);
  return out;
}

function checkWork(alg: unknown, length?: unknown): void {
  const a = (alg && typeof alg === "object" ? alg : {}) as Record<string, unknown>;
  if (typeof a.modulusLength === "number" && a.modulusLength > MAX_RSA_BITS) throw Object.assign(new Error(`RSA modulusLength over ${MAX_RSA_BITS} bits is not supported in Hangar`), { name: "NotSupportedError" });
  if (typeof a.iterations === "number" && a.iterations > MAX_PBKDF2_ITERATIONS) throw Object.assign(new Error(`PBKDF2 iterations over ${MAX_PBKDF2_ITERATIONS} are not supported in Hangar`), { name: "NotSupportedError" });
  if (typeof length === "number" && length > MAX_DERIVE_BITS) throw Object.assign(new Error(`deriveBits length over ${MAX_DERIVE_BITS} bits is not supported in Hangar`), { name: "OperationError" });
}

function result(store: KeyStore, v: unknown): unknown {
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (v && typeof v === "object" && "privateKey" in v && "publicKey" in v) {
    const p = v as { publicKey: Key; privateKey: Key };
    return { publicKey: describeKey(store, p.publicKey), privateKey: describeKey(store, p.privateKey) };
  }
  if (v instanceof (globalThis.CryptoKey as unknown as typeof webcrypto.CryptoKey)) return describeKey(store, v as Key);
  return v;
}

/** The crypto.subtle host function and the native that frees a key, for one instance. */
export function subtleBindings(ctx: QuickJSContext, t: NativeTools): { host: HostFunctions; natives: NativeFns } {
  const store = new KeyStore();
  const host: HostFunctions = {
    "hangar:subtle": async (args) => {
      const [op, ...rest] = args as [string, ...unknown[]];
      if (typeof op !== "string" || !Object.hasOwn(OPS, op)) throw new TypeError(`crypto.subtle.${String(op)} is not supported in Hangar`);
      const params = rest.slice(0, OPS[op]).map((x) => revive(store, x));
      if (op === "generateKey" || op === "importKey" || op === "deriveKey" || op === "unwrapKey") for (const p of params) checkWork(p);
      if (op === "deriveBits") checkWork(params[0], params[2]);
      if (op === "deriveKey") checkWork(params[0]);
      return result(store, await subtle[op].apply(webcrypto.subtle, params));
    },
  };
  const natives: NativeFns = {
    keyFree: (id) => { store.free(t.num(id)); },
    // HMAC (JWT HS256 and webhook signatures) is the common case: done synchronously, off the thread pool
    hmacKey: (id, data, sig) => {
      const key = store.get(t.num(id));
      const hash = (key.algorithm as webcrypto.HmacKeyAlgorithm).hash.name.replace("-", "").toLowerCase();
      const mac = createHmac(hash, KeyObject.from(key)).update(t.bytes(data, "crypto.subtle HMAC data")).digest();
      if (sig === undefined || ctx.typeof(sig) === "undefined") return t.newBytes("HMAC", mac);
      const want = t.bytes(sig, "crypto.subtle HMAC signature", 1024);
      return want.byteLength === mac.byteLength && timingSafeEqual(want, mac) ? ctx.true : ctx.false;
    },
  };
  return { host, natives };
}
