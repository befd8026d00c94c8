// The guest's Cache API host functions: "cache.match", "cache.put",
// "cache.delete", for one function, on the process's CacheStore.
import type { HostFunctions } from "../../../runtime/types.ts";
import { storable } from "./policy.ts";
import type { CacheStore } from "./store.ts";

export { CacheStore, CACHE_MAX_BYTES, CACHE_MAX_ENTRY_BYTES, type CacheStoreOptions } from "./store.ts";

const MAX_NAME = 1024;
const MAX_URL = 16 * 1024;
const MAX_HEADERS = 256;

/** The entry key: `name` null is `caches.default`, apart from every named cache. */
function keyOf(fn: string, name: unknown, url: unknown): string {
  if (name !== null && (typeof name !== "string" || name.length > MAX_NAME)) throw new TypeError(`a cache name must be a string of at most ${MAX_NAME} characters`);
  if (typeof url !== "string" || url.length > MAX_URL || !/^https?:\/\//i.test(url)) throw new TypeError(`a cache key must be an http(s) URL of at most ${MAX_URL} characters`);
  return JSON.stringify([fn, name, url]);
}

function headerList(v: unknown): [string, string][] {
  if (!Array.isArray(v) || v.length > MAX_HEADERS || !v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === "string" && typeof p[1] === "string")) {
    throw new TypeError(`cache.put: headers must be at most ${MAX_HEADERS} [name, value] string pairs`);
  }
  return v as [string, string][];
}

/** Cache host functions for function `fn` (its entries are its own). */
export function createCacheBindings(store: CacheStore, fn: string): HostFunctions {
  return {
    "cache.match": async ([name, url]) => {
      const e = store.get(keyOf(fn, name, url));
      return e ? { status: e.status, headers: e.headers, body: e.body } : null;
    },
    "cache.put": async ([name, url, status, headers, body]) => {
      const key = keyOf(fn, name, url);
      if (typeof status !== "number" || !Number.isInteger(status) || status < 200 || status > 599) throw new TypeError("cache.put: the status must be an integer from 200 to 599");
      if (!(body instanceof Uint8Array)) throw new TypeError("cache.put: the body must be bytes");
      const now = store.now();
      const keep = storable(status, headerList(headers), now);
      if (!keep) return null;
      // a view into a larger buffer would hold (and be counted as) less than it keeps alive
      const bytes = body.byteLength === body.buffer.byteLength ? body : body.slice();
      store.set(key, { status, headers: keep.headers, body: bytes, expires: now + keep.ttlMs });
      return null;
    },
    "cache.delete": async ([name, url]) => store.delete(keyOf(fn, name, url)),
  };
}
