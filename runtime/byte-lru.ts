// A map bounded by bytes: each entry is stored with its size, and past the cap
// the least recently used entries go first. The snapshot cache and the Cache
// API's store both keep their entries in one.

export class ByteLru<V> {
  private map = new Map<string, { value: V; bytes: number }>();
  private total = 0;

  constructor(readonly capBytes: number) {}

  /** The value under `key`, now the most recently used. */
  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  /** Store `value` (taking `bytes`) under `key`, replacing what was there, then evict past the cap. */
  set(key: string, value: V, bytes: number): void {
    this.delete(key);
    this.map.set(key, { value, bytes });
    this.total += bytes;
    for (const [k, e] of this.map) {
      if (this.total <= this.capBytes) break;
      this.map.delete(k);
      this.total -= e.bytes;
    }
  }

  /** Remove `key`; the value it held, if any. */
  delete(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.total -= e.bytes;
    return e.value;
  }

  get size(): number { return this.map.size; }
  get bytes(): number { return this.total; }

  clear(): void {
    this.map.clear();
    this.total = 0;
  }
}
