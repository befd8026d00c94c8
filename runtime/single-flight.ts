/**
 * `make(key)` once per key at a time: concurrent callers for a key share the
 * pending promise; it is forgotten when it settles, so a failure is retried
 * by the next caller.
 */
export async function singleFlight<K, V>(pending: Map<K, Promise<V>>, key: K, make: () => Promise<V>): Promise<V> {
  const running = pending.get(key);
  if (running) return running;
  const p = make();
  pending.set(key, p);
  try {
    return await p;
  } finally {
    if (pending.get(key) === p) pending.delete(key);
  }
}
