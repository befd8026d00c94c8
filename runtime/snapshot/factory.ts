// Makes instances for one thread (or the in-process runtime): a prepared
// instance is the prelude snapshot restored into a bare module; a version's
// first load evaluates its bundle and snapshots the result, and later cold
// starts of that version restore the snapshot. Snapshots are kept per thread,
// in memory, LRU-bounded by bytes (see README, "Snapshots").
import { createHash } from "node:crypto";
import { SparePool, engineLayout, newEngineModule, type EngineModule } from "../engine.ts";
import { Instance, type InstanceImage, type InstanceOptions, type RestoreContext } from "../instance.ts";
import { preludeSource } from "../prelude.ts";
import { findRandomState, SnapshotRefused } from "./adopt.ts";
import { decodeSnapshot, encodeSnapshot } from "./format.ts";
import { dirtyChunks } from "./image.ts";

/** Snapshot format version: part of every fingerprint. */
const FORMAT = 1;
/** Default cap on the bytes of bundle snapshots a factory keeps. */
export const SNAPSHOT_CACHE_BYTES = 128 * 1024 * 1024;

interface Base { image: InstanceImage; rc: RestoreContext; fingerprint: string }

export interface FactoryStats { restored: number; evaluated: number; refused: number; snapshots: number; snapshotBytes: number }

export class InstanceFactory {
  private bare = new SparePool<EngineModule>((mb) => newEngineModule(mb), async () => {});
  private base: Promise<Base | null> | undefined;
  private cache = new Map<string, Uint8Array>();
  private cacheBytes = 0;
  private closed = false;
  /** Why snapshots are off in this process, when they are. */
  disabled: string | undefined;
  readonly stats: FactoryStats = { restored: 0, evaluated: 0, refused: 0, snapshots: 0, snapshotBytes: 0 };

  constructor(private readonly opts: { cacheBytes?: number; snapshots?: boolean } = {}) {
    if (opts.snapshots === false) this.disabled = "turned off";
  }

  /** The prelude snapshot and what a restore needs; null when snapshots cannot work here. */
  private baseImage(): Promise<Base | null> {
    this.base ??= (async () => {
      if (this.disabled) return null;
      try {
        const engine = await newEngineModule(128);
        const dirty = dirtyChunks(engine.memory);
        const inst = await Instance.prepare(engine);
        try {
          const randomOffset = findRandomState(inst.context, engine.memory, inst.contextPointer);
          const image = inst.capture();
          const h = createHash("sha256").update(`${FORMAT}\0${engineLayout().buildHash}\0${Instance.preludeSource ?? preludeSource()}\0`);
          h.update(image.memory.data).update(new Uint8Array(image.memory.chunks.buffer));
          return { image, rc: { randomOffset, dirty }, fingerprint: h.digest("hex") };
        } finally {
          await inst.close();
        }
      } catch (e) {
        this.disabled = `snapshots are off: ${(e as Error).message}`;
        return null;
      }
    })();
    return this.base;
  }

  /** What a snapshot made here must carry to be accepted here. */
  async fingerprint(): Promise<string | undefined> {
    return (await this.baseImage())?.fingerprint;
  }

  /** A prepared instance (context and prelude): the prelude snapshot restored, or set up from scratch. */
  async prepare(memoryMb: number): Promise<Instance> {
    const base = await this.baseImage();
    const engine = await this.bare.take(memoryMb);
    if (!base) return Instance.prepare(engine);
    return Instance.restore(engine, base.image, base.rc);
  }

  /**
   * An instance of version `id` with its bundle loaded: restored from that
   * version's snapshot when one is kept and accepted, else evaluated (and then
   * snapshotted for next time).
   */
  async load(id: string, bundle: string, opts: InstanceOptions): Promise<Instance> {
    const base = await this.baseImage();
    const key = cacheKey(id, bundle, opts);
    const bytes = base ? this.cache.get(key) : undefined;
    if (base && bytes) {
      this.cache.delete(key); // re-inserted: most recently used last
      this.cache.set(key, bytes);
      const engine = await this.bare.take(opts.limits.memoryMb);
      try {
        const inst = Instance.restore(engine, decodeSnapshot(bytes, base.fingerprint, base.image.memory), base.rc);
        this.stats.restored++;
        return inst;
      } catch (e) {
        if (!(e instanceof SnapshotRefused)) throw e;
        this.forget(key);
        this.stats.refused++;
      }
    }
    const inst = await (await this.prepare(opts.limits.memoryMb)).load(id, bundle, opts);
    this.stats.evaluated++;
    if (base) this.remember(key, inst, base);
    return inst;
  }

  /** Put snapshot bytes for a version (as `snapshotOf` returned them, or from elsewhere): verified when used. */
  put(id: string, bundle: string, opts: InstanceOptions, bytes: Uint8Array): void {
    this.store(cacheKey(id, bundle, opts), bytes);
  }

  /** The snapshot bytes kept for a version, if any. */
  snapshotOf(id: string, bundle: string, opts: InstanceOptions): Uint8Array | undefined {
    return this.cache.get(cacheKey(id, bundle, opts));
  }

  private remember(key: string, inst: Instance, base: Base): void {
    try {
      this.store(key, encodeSnapshot(inst.capture(base.image.memory), base.fingerprint));
    } catch (e) {
      if (!(e instanceof SnapshotRefused)) throw e; // an instance with work in flight is simply evaluated next time
    }
  }

  private store(key: string, bytes: Uint8Array): void {
    const cap = this.opts.cacheBytes ?? SNAPSHOT_CACHE_BYTES;
    if (this.closed || bytes.byteLength > cap) return;
    this.forget(key);
    this.cache.set(key, bytes);
    this.cacheBytes += bytes.byteLength;
    for (const [k, b] of this.cache) {
      if (this.cacheBytes <= cap) break;
      this.cache.delete(k);
      this.cacheBytes -= b.byteLength;
    }
    this.stats.snapshots = this.cache.size;
    this.stats.snapshotBytes = this.cacheBytes;
  }

  private forget(key: string): void {
    const old = this.cache.get(key);
    if (!old) return;
    this.cache.delete(key);
    this.cacheBytes -= old.byteLength;
    this.stats.snapshots = this.cache.size;
    this.stats.snapshotBytes = this.cacheBytes;
  }

  /** Drop spares and snapshots; safe twice. */
  async close(): Promise<void> {
    this.closed = true;
    this.cache.clear();
    this.cacheBytes = 0;
    await this.bare.close();
  }
}

/**
 * A snapshot is valid for one version (whose bundle never changes: the length
 * only guards against a reused id), memory class and env (top-level code may read env).
 */
function cacheKey(id: string, bundle: string, opts: InstanceOptions): string {
  const env = Object.entries(opts.env ?? {});
  const h = env.length ? createHash("sha256").update(JSON.stringify(env.sort())).digest("base64") : "";
  return `${id}\0${bundle.length}\0${opts.limits.memoryMb}\0${h}`;
}
