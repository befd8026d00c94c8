/**
 * A value read at most once per `ttlMs`; concurrent readers share one read.
 * A failed read keeps the last good value, so a slow or broken database never
 * fails (or slows) every scrape.
 */
export function cached<T>(ttlMs: number, read: () => Promise<T>, initial: T): () => Promise<T> {
  let value = initial;
  let at = -Infinity;
  let pending: Promise<T> | null = null;
  return () => {
    if (performance.now() - at < ttlMs) return Promise.resolve(value);
    pending ??= read()
      .then((v) => (value = v))
      .catch(() => value)
      .finally(() => {
        at = performance.now();
        pending = null;
      });
    return pending;
  };
}
