// Makes instances for one thread (or the in-process runtime): a prepared
// instance is the prelude snapshot restored into a bare module; a version's
// first load evaluates its bundle and snapshots the result, and later cold
// starts of that version restore the snapshot. Snapshots are kept per process,
// in memory, LRU-bounded by bytes (README: "Top-level code runs once per snapshot"): by the sandbox
// pool on the main thread, which hands them to whichever thread loads the version.
import { createHash } from "node:crypto";
import { SparePool, engineLayout, limitBytesFor, newEngineModule, stackGap, type EngineModule } from "../engine.ts";
import { Instance, type InstanceImage, type InstanceOptions, type RestoreContext } from "../instance.ts";
import { preludeSource } from "../prelude.ts";
import { findRandomState, SnapshotRefused } from "./adopt.ts";
import { decodeSnapshot, encodeSnapshot } from "./format.ts";
import { CHUNK, dirtyChunks, type Dirty, type MemoryImage } from "./image.ts";
import { BLOCK, restoreImage } from "./diff.ts";
import { SnapshotCache, snapshotKey } from "./cache.ts";
import { PrefaultedSpares } from "./prefaulted.ts";

export { snapshotKey };

/** Closed instances' modules kept per memory class, and the largest kept (WASM memory never shrinks). */
const RECYCLE_KEEP = 4;
const RECYCLE_MAX_BYTES = 24 * 1024 * 1024;
/** Touched memory a pre-faulted spare holds beyond the prelude image (prefaulted.ts). */
const PREFAULT_ROOM = 8 * 1024 * 1024;
/** Bundles from this size on are evaluated into a pre-faulted spare when one is ready (a 256 KB bundle grows the heap about 3.5 MB). */
const PREFAULT_BUNDLE = 256 * 1024;
/** A load needing this much memory beyond the prelude image (a snapshot's, a large bundle's evaluation) takes one when it is ready. */
const PREFAULT_MIN = 2 * 1024 * 1024;
/** Snapshot format version: part of every fingerprint. */
const FORMAT = 2;

interface Base { image: InstanceImage & { memory: MemoryImage }; rc: RestoreContext; fingerprint: string }

export interface FactoryStats { restored: number; evaluated: number; refused: number; prefaulted: number }

export class InstanceFactory {
  /** Spare modules, made ahead; once the prelude snapshot exists they hold its image (see imprint). */
  private bare = new SparePool<EngineModule>(async (mb) => {
    const engine = await newEngineModule(mb);
    if (this.ready) this.imprint(engine, this.ready);
    return engine;
  }, async () => {});
  /**
   * Modules of closed instances, by memory class: restoring into memory already
   * touched skips the page faults a fresh module pays (the bulk of a restore).
   * Each is given the prelude image again as soon as the thread is free.
   */
  private recycled = new Map<number, EngineModule[]>();
  /** Modules with memory written ahead of need, for large bundles and snapshots (prefaulted.ts). */
  private prefaulted = new PrefaultedSpares(async (mb) => {
    if (!this.ready) return undefined;
    const engine = await newEngineModule(mb);
    this.imprint(engine, this.ready);
    return engine.holds ? engine : undefined;
  }, PREFAULT_ROOM);
  private base: Promise<Base | null> | undefined;
  /** The prelude snapshot once made. */
  private ready: Base | undefined;
  /** Version snapshots kept here (the in-process runtime); a sandbox thread's are kept by the pool. */
  readonly cache: SnapshotCache;
  private closed = false;
  /** Why snapshots are off in this process, when they are. */
  disabled: string | undefined;
  readonly stats: FactoryStats = { restored: 0, evaluated: 0, refused: 0, prefaulted: 0 };

  constructor(opts: { cacheBytes?: number; snapshots?: boolean } = {}) {
    if (opts.snapshots === false) this.disabled = "turned off";
    this.cache = new SnapshotCache(opts.cacheBytes);
  }

  /** The prelude snapshot and what a restore needs; null when snapshots cannot work here. */
  private baseImage(): Promise<Base | null> {
    this.base ??= (async () => {
      if (this.disabled) return null;
      try {
        this.ready = await makeBase();
        return this.ready;
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

  /**
   * A prepared instance (context and prelude): the prelude snapshot restored,
   * or set up from scratch. `roomy`: a large bundle is evaluated next, into a
   * pre-faulted spare when one is ready.
   */
  async prepare(memoryMb: number, roomy = false): Promise<Instance> {
    const base = await this.baseImage();
    if (!base) return Instance.prepare(await this.bare.take(memoryMb));
    return this.restore(await this.engine(memoryMb, base.image.memory.bytes, roomy), base.image, base.rc);
  }

  /** A pre-faulted spare of this memory class is ready (one is made after the first large load of the class). */
  prefaultedReady(memoryMb: number): boolean {
    return this.prefaulted.has(memoryMb);
  }

  private restore(engine: EngineModule, img: InstanceImage, rc: RestoreContext): Instance {
    const inst = Instance.restore(engine, img, rc);
    inst.recycle = (e) => this.giveBack(e);
    return inst;
  }

  /**
   * A module for a restore needing `bytes`: a recycled one (holding the
   * prelude image if one does; the smallest that is large enough), else a
   * spare. A large need (a large snapshot, or `roomy`: a large bundle's
   * evaluation next) takes a pre-faulted spare unless a recycled module's
   * memory, touched already, is as large.
   */
  private async engine(memoryMb: number, bytes = 0, roomy = false): Promise<EngineModule> {
    const list = this.recycled.get(limitBytesFor(memoryMb));
    const want = roomy ? bytes + PREFAULT_ROOM : bytes;
    if (this.ready && want >= this.ready.image.memory.bytes + PREFAULT_MIN && !list?.some((e) => e.memory.buffer.byteLength >= want)) {
      const engine = this.prefaulted.take(memoryMb, want);
      if (engine) {
        this.stats.prefaulted++;
        return engine;
      }
    }
    if (list?.length) {
      let best = -1;
      list.forEach((e, i) => {
        if (best < 0) { best = i; return; }
        const b = list[best];
        if (!!e.holds !== !!b.holds) { if (e.holds) best = i; return; }
        const size = e.memory.buffer.byteLength, bestSize = b.memory.buffer.byteLength;
        if (size >= bytes ? bestSize < bytes || size < bestSize : size > bestSize) best = i;
      });
      return list.splice(best, 1)[0];
    }
    return this.bare.take(memoryMb);
  }

  private giveBack(engine: EngineModule): void {
    engine.used = true;
    engine.holds = undefined;
    if (this.closed || engine.memory.buffer.byteLength > RECYCLE_MAX_BYTES) return;
    const list = this.recycled.get(engine.limitBytes) ?? [];
    if (list.length >= RECYCLE_KEEP) return;
    list.push(engine);
    this.recycled.set(engine.limitBytes, list);
    setImmediate(() => {
      if (!this.closed && this.ready && !engine.holds && list.includes(engine)) this.imprint(engine, this.ready);
    });
  }

  /**
   * Write the prelude image into `engine` ahead of need (a spare being made, a
   * module given back): a restore into it then writes only a version's diff,
   * and a fresh module's page faults are paid here, not on a cold start.
   */
  private imprint(engine: EngineModule, base: Base): void {
    const img = base.image.memory;
    if (engine.memory.buffer.byteLength < img.bytes && !engine.resize(img.bytes)) return;
    restoreImage(engine.memory, img, engine.used ? base.rc.usedDirty(engine.memory) : { chunks: base.rc.dirty });
    engine.used = true;
    engine.holds = img;
  }

  /** An instance of version `id` with its bundle loaded, using and filling this factory's cache. */
  async load(id: string, bundle: string, opts: InstanceOptions): Promise<Instance> {
    const key = snapshotKey(id, bundle, opts);
    const { inst, snapshot, refused } = await this.loadFrom(id, bundle, opts, this.cache.get(key));
    if (refused) this.cache.delete(key);
    const made = snapshot?.()?.();
    if (made && !this.closed) this.cache.set(key, made);
    return inst;
  }

  /**
   * An instance of version `id` with its bundle loaded: restored from
   * `snapshot` when it is given and accepted, else evaluated. An evaluated
   * one comes with `snapshot`, which freezes the instance's state for the
   * snapshot of next time: the caller may answer first (a sandbox thread tells
   * the pool the load is done, then freezes) but must call it before the
   * instance runs anything else. What it returns makes the snapshot's bytes,
   * whenever called (a thread does that after the first invocation); undefined
   * when the instance cannot be snapshotted.
   */
  async loadFrom(id: string, bundle: string, opts: InstanceOptions, snapshot?: Uint8Array): Promise<{ inst: Instance; snapshot?: () => (() => Uint8Array) | undefined; refused?: boolean }> {
    const base = await this.baseImage();
    let refused = false;
    if (base && snapshot) {
      try {
        const img = decodeSnapshot(snapshot, base.fingerprint, base.image.memory);
        const inst = this.restore(await this.engine(opts.limits.memoryMb, img.memory.bytes), img, base.rc);
        inst.id = id; // the snapshot may come from another id with the same bundle (the deploy's evaluation)
        this.stats.restored++;
        return { inst };
      } catch (e) {
        if (!(e instanceof SnapshotRefused)) throw e;
        refused = true;
        this.stats.refused++;
      }
    }
    const inst = await (await this.prepare(opts.limits.memoryMb, bundle.length >= PREFAULT_BUNDLE)).load(id, bundle, opts);
    this.stats.evaluated++;
    if (!base) return { inst, refused };
    const { image, fingerprint } = base;
    const capture = () => {
      try {
        const frozen = inst.freezeState(image.memory);
        return () => frozen((state) => encodeSnapshot(state, fingerprint));
      } catch (e) {
        if (!(e instanceof SnapshotRefused)) throw e; // work left in flight at load: evaluated again next time
        return undefined;
      }
    };
    return { inst, snapshot: capture, refused };
  }

  /** Drop spares and snapshots; safe twice. */
  async close(): Promise<void> {
    this.closed = true;
    this.cache.clear();
    this.recycled.clear();
    this.prefaulted.close();
    await this.bare.close();
  }
}

/** Run `use` on a prepared instance (made from scratch) and close it; `dirty` is what its fresh module had written. */
async function prepared<T>(use: (inst: Instance, engine: EngineModule, dirty: Uint32Array) => T): Promise<T> {
  const engine = await newEngineModule(128);
  const dirty = dirtyChunks(engine.memory, stackGap());
  const inst = await Instance.prepare(engine);
  try {
    return use(inst, engine, dirty);
  } finally {
    await inst.close();
  }
}

/**
 * The prelude snapshot. A version's snapshot holds only what differs from it,
 * so every thread must hold the same base: its fingerprint hashes the image
 * with the words that differ between two preparations (clocks, Math.random's
 * seed, set anew by every restore) left out, so any thread of this build and
 * prelude computes the same one. A second preparation finds those words and
 * where Math.random's state is.
 */
async function makeBase(): Promise<Base> {
  const { image, dirty } = await prepared((inst, _e, dirty) => ({ image: inst.capture(), dirty }));
  const { volatile, randomOffset } = await prepared((inst, engine) => {
    const again = inst.capture();
    return { volatile: differing(image.memory, again.memory), randomOffset: findRandomState(inst.context, engine.memory, inst.contextPointer) };
  });
  const h = createHash("sha256").update(`${FORMAT}\0${BLOCK}\0${engineLayout().buildHash}\0${Instance.preludeSource ?? preludeSource()}\0`);
  const data = image.memory.data.slice();
  for (const at of volatile) data.fill(0, at, at + 8);
  h.update(data).update(new Uint8Array(image.memory.chunks.buffer)).update(JSON.stringify(image.engine));
  // a used module may have written anywhere but the part of the C stack no code reaches
  const [from, to] = stackGap();
  const gap = [Math.ceil(from / CHUNK), Math.floor(to / CHUNK)];
  const usedDirty = (m: WebAssembly.Memory): Dirty => ({ ranges: [[0, gap[0]], [gap[1], m.buffer.byteLength / CHUNK]] });
  return { image, rc: { randomOffset, dirty, usedDirty }, fingerprint: h.digest("hex") };
}

/** Offsets into a.data of the 8-byte words where two images of the same chunks differ. */
function differing(a: MemoryImage, b: MemoryImage): number[] {
  if (a.chunks.length !== b.chunks.length || a.chunks.some((c, i) => c !== b.chunks[i])) throw new SnapshotRefused("two preparations of the prelude differ in layout");
  const x = new BigUint64Array(a.data.buffer, a.data.byteOffset, a.data.byteLength / 8);
  const y = new BigUint64Array(b.data.buffer, b.data.byteOffset, b.data.byteLength / 8);
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) out.push(i * 8);
  if (out.length > 16) throw new SnapshotRefused(`two preparations of the prelude differ in ${out.length} places`);
  return out;
}
