// Pre-faulted spares: one module per memory class whose memory is grown past
// the prelude image and written (with zeros) ahead of need, off the request
// path. A fresh page of WASM memory costs a page fault on its first write,
// and on a VM that is 10-17 us (bench/RESULTS.md, cold): evaluating a 500 KB bundle grows
// the engine's heap by about 1,600 pages (QuickJS compiles the whole source at
// once, about 14 bytes of heap per source byte), 20-30 ms of faults; restoring
// its 4 MB snapshot into a fresh module faults about 1,000. A large bundle's
// evaluation, and a large snapshot's restore, take the spare when one is
// ready, and another is made behind it. The first such load of a memory
// class pays its own faults: nothing is made for a class until then.
import type { EngineModule } from "../engine.ts";

/** Pages written per turn of the event loop while a spare is made (about 0.3-0.5 ms of faults): invocations run between them. */
const SLICE_PAGES = 32;
const OS_PAGE = 4096;

export class PrefaultedSpares {
  private readonly ready = new Map<number, EngineModule>();
  private readonly making = new Set<number>();
  private closed = false;

  /**
   * `make` returns a module of the memory class holding the prelude image (or
   * undefined: none is made); `roomBytes` is how much touched memory a spare
   * holds beyond it.
   */
  constructor(private readonly make: (memoryMb: number) => Promise<EngineModule | undefined>, readonly roomBytes: number) {}

  /** The ready spare of this class when its memory holds at least `minBytes`; another is made behind it (or a first one, for next time). */
  take(memoryMb: number, minBytes = 0): EngineModule | undefined {
    const engine = this.ready.get(memoryMb);
    const fits = engine !== undefined && engine.memory.buffer.byteLength >= minBytes;
    if (fits) this.ready.delete(memoryMb);
    this.fill(memoryMb);
    return fits ? engine : undefined;
  }

  /** A spare of this memory class is ready. */
  has(memoryMb: number): boolean {
    return this.ready.has(memoryMb);
  }

  private fill(memoryMb: number): void {
    if (this.closed || this.ready.has(memoryMb) || this.making.has(memoryMb)) return;
    this.making.add(memoryMb);
    void this.build(memoryMb)
      .then((engine) => { if (engine && !this.closed) this.ready.set(memoryMb, engine); }, () => {})
      .finally(() => this.making.delete(memoryMb));
  }

  private async build(memoryMb: number): Promise<EngineModule | undefined> {
    await turn();
    if (this.closed) return undefined;
    const engine = await this.make(memoryMb);
    if (!engine) return undefined;
    const from = engine.memory.buffer.byteLength;
    const to = Math.min(engine.limitBytes, from + this.roomBytes);
    if (to <= from || !engine.resize(to)) return undefined;
    for (let page = from; page < to; ) {
      // the buffer is looked up each slice: nothing else holds this module, but a view must never outlive a growth
      const u8 = new Uint8Array(engine.memory.buffer);
      const end = Math.min(to, page + SLICE_PAGES * OS_PAGE);
      for (; page < end; page += OS_PAGE) u8[page] = 0;
      await turn();
      if (this.closed) return undefined;
    }
    return engine;
  }

  /** Drop the ready spares and stop making any; safe twice. */
  close(): void {
    this.closed = true;
    this.ready.clear();
  }
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
