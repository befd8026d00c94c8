// Snapshot bytes by key, least recently used dropped first past a byte cap.
// Held in SharedArrayBuffers: sending one to a sandbox thread shares it, no copy.
import { createHash } from "node:crypto";
import { ByteLru } from "../byte-lru.ts";
import type { EventKind } from "../types.ts";

/** Default cap on the bytes of version snapshots a process keeps. */
export const SNAPSHOT_CACHE_BYTES = 256 * 1024 * 1024;

/** What a version's load reported (taken from the load that made the snapshot): a restore reports the same. */
export interface SnapshotMeta {
  handlers: ("fetch" | EventKind)[];
  config: unknown;
  memoryBytes: number;
}

export class SnapshotCache {
  private lru: ByteLru<{ bytes: Uint8Array; meta?: SnapshotMeta }>;

  constructor(readonly capBytes = SNAPSHOT_CACHE_BYTES) {
    this.lru = new ByteLru(capBytes);
  }

  get(key: string): Uint8Array | undefined {
    return this.lru.get(key)?.bytes;
  }

  /** The snapshot under `key` with what its load reported, when that is known. */
  entry(key: string): { bytes: Uint8Array; meta?: SnapshotMeta } | undefined {
    return this.lru.get(key);
  }

  set(key: string, bytes: Uint8Array, meta?: SnapshotMeta): void {
    this.lru.delete(key);
    if (bytes.byteLength > this.capBytes) return;
    let shared = bytes;
    if (!(bytes.buffer instanceof SharedArrayBuffer)) {
      shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
      shared.set(bytes);
    }
    this.lru.set(key, { bytes: shared, meta }, shared.byteLength);
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  get size(): number { return this.lru.size; }
  get bytes(): number { return this.lru.bytes; }

  clear(): void {
    this.lru.clear();
  }
}

const bundleHashes = new Map<string, string>();

/**
 * A snapshot is valid for one bundle (by content: the deploy's evaluation and
 * the version's pre-warm share it), memory class and env (top-level code may
 * read env). A version's bundle never changes, so its hash is remembered by id.
 */
export function snapshotKey(id: string, bundle: string, opts: { limits: { memoryMb: number }; env?: Record<string, string> }): string {
  const memo = `${id}\0${bundle.length}`;
  let code = bundleHashes.get(memo);
  if (!code) {
    code = createHash("sha256").update(bundle).digest("base64");
    if (bundleHashes.size >= 4096) bundleHashes.delete(bundleHashes.keys().next().value!);
    bundleHashes.set(memo, code);
  }
  const env = Object.entries(opts.env ?? {});
  const h = env.length ? createHash("sha256").update(JSON.stringify(env.sort())).digest("base64") : "";
  return `${code}\0${opts.limits.memoryMb}\0${h}`;
}
