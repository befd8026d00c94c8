// Fair shares: each function runs at most `limit` invocations at once, with a
// bounded queue of its own behind them; one function's queue never holds
// another's invocations.

/** How many may wait per function, as a multiple of its concurrency limit. */
const QUEUE_FACTOR = 2;

interface Gate { running: number; waiting: (() => void)[] }

export class ConcurrencyGates {
  private gates = new Map<string, Gate>();

  /**
   * Wait for a slot of `name`; resolves with its release function (call it
   * once), or null when the function's queue is full.
   */
  async enter(name: string, limit: number): Promise<(() => void) | null> {
    let g = this.gates.get(name);
    if (!g) this.gates.set(name, (g = { running: 0, waiting: [] }));
    if (g.running >= limit) {
      if (g.waiting.length >= limit * QUEUE_FACTOR) return null;
      await new Promise<void>((resolve) => g!.waiting.push(resolve));
    } else {
      g.running++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = g!.waiting.shift();
      if (next) { next(); return; } // the slot passes straight to the next in line
      // the gate stays (one per deployed function): a Map whose entries come and go per request promotes them (runtime/id-map.ts)
      g!.running--;
    };
  }
}
