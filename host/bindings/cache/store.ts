// The Workers Cache API's store: local to this process and best-effort, as
// Cloudflare's cache is local to a data center. One bounded LRU for every
// function; entries are keyed by function name, cache name and URL, so no
// function sees another's. Sandbox threads reach it through their host calls,
// which the main thread serves: every instance of a function shares it.

import { ByteLru } from "../../../runtime/byte-lru.ts";

/** Bytes every cached entry together may take in one process. */
export const CACHE_MAX_BYTES = 32 * 1024 * 1024;
/** Bytes one entry (body, headers and URL) may take; a larger put fails. */
export const CACHE_MAX_ENTRY_BYTES = 5 * 1024 * 1024;

export interface CachedResponse {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
  /** Clock time (ms) from which the entry is stale and no longer answered. */
  expires: number;
}

export interface CacheStoreOptions {
  maxBytes?: number;
  maxEntryBytes?: number;
  /** The clock expiry is read against (tests advance their own). */
  now?: () => number;
}

export class CacheEntryTooLargeError extends Error {
  readonly code = "CACHE_ENTRY_TOO_LARGE";
  constructor(bytes: number, max: number) {
    super(`cache.put: the response takes ${bytes} bytes, over Hangar's limit of ${max} bytes per cache entry`);
    this.name = "RangeError";
  }
}

/** A byte-bounded LRU of cached responses. */
export class CacheStore {
  readonly now: () => number;
  private entries: ByteLru<CachedResponse>;
  private readonly maxEntryBytes: number;

  constructor(opts: CacheStoreOptions = {}) {
    const maxBytes = opts.maxBytes ?? CACHE_MAX_BYTES;
    this.entries = new ByteLru(maxBytes);
    this.maxEntryBytes = Math.min(opts.maxEntryBytes ?? CACHE_MAX_ENTRY_BYTES, maxBytes);
    this.now = opts.now ?? Date.now;
  }

  /** The fresh entry for key (now the most recently used), or undefined; a stale one is dropped. */
  get(key: string): CachedResponse | undefined {
    const e = this.entries.get(key);
    if (!e || e.expires > this.now()) return e;
    this.entries.delete(key);
    return undefined;
  }

  /** Store value under key, evicting the least recently used entries past the byte cap; throws when the entry alone is too large. */
  set(key: string, value: CachedResponse): void {
    let bytes = key.length * 2 + value.body.byteLength;
    for (const [k, v] of value.headers) bytes += (k.length + v.length) * 2;
    if (bytes > this.maxEntryBytes) throw new CacheEntryTooLargeError(bytes, this.maxEntryBytes);
    this.entries.set(key, value, bytes);
  }

  /** Remove key; true when a fresh entry was there. */
  delete(key: string): boolean {
    const e = this.entries.delete(key);
    return e !== undefined && e.expires > this.now();
  }

  stats(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.entries.bytes };
  }
}
