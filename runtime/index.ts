// The sandbox runtime: warm function instances by version id, LRU-bounded by memory.
import type { FunctionInstance, Limits, InvocationInput } from "./types.ts";
import { Instance } from "./instance.ts";
import { InstanceFactory } from "./snapshot/factory.ts";
import { RuntimeClosedError } from "./errors.ts";
import { singleFlight } from "./single-flight.ts";
import { SandboxPool } from "./worker/pool.ts";

export * from "./types.ts";
export { BundleEvalError, RuntimeClosedError } from "./errors.ts";
export { MODULE_MARKER } from "./instance.ts";
export { MemoryBudgetError } from "./worker/pool.ts";

export interface RuntimeOptions {
  /** Total WASM heap across warm instances before idle ones are evicted (LRU); default 1024. */
  memoryBudgetMb?: number;
  /**
   * Sandbox worker threads (default: available cores). 0 runs instances on the
   * calling thread: only for tools and tests that inspect instances directly.
   */
  threads?: number;
  /** Restore instances from memory snapshots (default true); false evaluates every cold start. */
  snapshots?: boolean;
}

export interface LoadOptions {
  filename?: string;
  limits: Limits;
  /** Secrets and vars the bundle's top-level code sees (`Deno.env.get`). */
  env?: Record<string, string>;
  /** Console output of the bundle's top-level code. */
  onConsole?: InvocationInput["onConsole"];
}

export interface Runtime {
  /** Warm instance for this id (a function version id), creating+evaluating it on first use; concurrent callers share one creation. */
  load(id: string, bundle: string, opts: LoadOptions): Promise<FunctionInstance>;
  get(id: string): FunctionInstance | undefined;
  evict(id: string): Promise<void>;
  /**
   * Done with `id` for now, but a load of the same bundle, memory class and env
   * may follow (a deploy's evaluation, then its pre-warm as the version): that
   * load may take this very instance, if it never ran an invocation, instead of
   * restoring its snapshot. Otherwise the same as evict.
   */
  park(id: string): Promise<void>;
  stats(): { instances: number; heapBytes: number };
  /** Close every instance; safe to call twice. */
  close(): Promise<void>;
}

/** An instance that has grown past this share of its limit is replaced once idle (WASM memory never shrinks). */
const RECYCLE_RATIO = 0.75;

class HangarRuntime implements Runtime {
  private instances = new Map<string, Instance>();
  /** The instance last put at the end of `instances`: used again, it is not re-inserted (see get). */
  private latest: Instance | null = null;
  private creating = new Map<string, Promise<Instance>>();
  // Instances are restored from snapshots (the prelude's, a version's after its first evaluation) into spare modules.
  private factory: InstanceFactory;
  private closed = false;
  private budgetBytes: number;

  constructor(options: RuntimeOptions) {
    this.budgetBytes = (options.memoryBudgetMb ?? 1024) * 1024 * 1024;
    this.factory = new InstanceFactory({ snapshots: options.snapshots });
  }

  async load(id: string, bundle: string, opts: LoadOptions): Promise<FunctionInstance> {
    if (this.closed) throw new RuntimeClosedError();
    const warm = this.get(id);
    if (warm) return warm;
    return singleFlight(this.creating, id, () => this.create(id, bundle, opts));
  }

  private async create(id: string, bundle: string, opts: LoadOptions): Promise<Instance> {
    const inst = await this.factory.load(id, bundle, opts);
    if (this.closed) {
      await inst.close();
      throw new RuntimeClosedError();
    }
    inst.onDead = () => { if (this.instances.get(id) === inst) this.instances.delete(id); };
    this.instances.set(id, (this.latest = inst));
    await this.enforceBudget(inst);
    return inst;
  }

  get(id: string): FunctionInstance | undefined {
    const inst = this.instances.get(id);
    if (!inst) return undefined;
    if (!inst.alive) { this.instances.delete(id); return undefined; }
    if (!inst.busy && inst.reservedBytes() > inst.limitBytes * RECYCLE_RATIO) {
      this.instances.delete(id);
      void inst.close();
      return undefined;
    }
    // re-insert: Map order is the LRU order (not when already last: see worker/pool.ts get)
    if (inst !== this.latest) {
      this.instances.delete(id);
      this.instances.set(id, (this.latest = inst));
    }
    return inst;
  }

  async evict(id: string): Promise<void> {
    const inst = this.instances.get(id);
    this.instances.delete(id);
    await inst?.close();
  }

  /** In process, nothing is set aside: tools and tests load what they inspect. */
  park(id: string): Promise<void> {
    return this.evict(id);
  }

  stats(): { instances: number; heapBytes: number } {
    let heapBytes = 0;
    for (const inst of this.instances.values()) heapBytes += inst.memoryBytes();
    return { instances: this.instances.size, heapBytes };
  }

  private async enforceBudget(keep: Instance): Promise<void> {
    let total = this.stats().heapBytes;
    for (const [id, inst] of [...this.instances]) {
      if (total <= this.budgetBytes) break;
      if (inst === keep || inst.busy) continue;
      total -= inst.memoryBytes();
      await this.evict(id);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.creating.values()]);
    await this.factory.close();
    const all = [...this.instances.values()];
    this.instances.clear();
    await Promise.all(all.map((i) => i.close()));
  }
}

/** Create a runtime holding warm function instances. */
export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  if (options.threads === 0) return new HangarRuntime(options);
  return new SandboxPool(options);
}
