// What the guest prelude (runtime/guest: the Web platform every function gets)
// costs: its size; evaluating it into a fresh engine, which every instance paid
// before snapshots and a process now pays once, to take its prelude snapshot;
// and making a prepared instance (a spare) from that snapshot, which is what a
// cold start pays for it now. In process, no threads.
import { newEngineModule } from "../../runtime/engine.ts";
import { Instance } from "../../runtime/instance.ts";
import { preludeSource } from "../../runtime/prelude.ts";
import { InstanceFactory } from "../../runtime/snapshot/factory.ts";
import { median } from "./stats.ts";

export interface PreludeCost {
  /** Characters of the minified prelude. */
  bytes: number;
  /** Median ms to evaluate the prelude into a fresh engine (module made beforehand). */
  evaluateMs: number;
  /** Median ms to make a prepared instance from the prelude snapshot, its engine module included. */
  spareMs: number;
}

const MEMORY_MB = 128;

export async function preludeCost(rounds = 9): Promise<PreludeCost> {
  const bytes = preludeSource().length;
  const evaluate: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const engine = await newEngineModule(MEMORY_MB);
    const t0 = performance.now();
    const inst = await Instance.prepare(engine);
    evaluate.push(performance.now() - t0);
    await inst.close();
  }
  const factory = new InstanceFactory();
  const spare: number[] = [];
  try {
    await (await factory.prepare(MEMORY_MB)).close(); // takes the prelude snapshot
    for (let i = 0; i < rounds; i++) {
      await new Promise((r) => setTimeout(r, 30)); // the factory's bare module pool refills between takes, as between cold starts
      const t0 = performance.now();
      const inst = await factory.prepare(MEMORY_MB);
      spare.push(performance.now() - t0);
      await inst.close();
    }
  } finally {
    await factory.close();
  }
  return { bytes, evaluateMs: median(evaluate), spareMs: median(spare) };
}
