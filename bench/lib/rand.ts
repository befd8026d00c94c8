// Seeded vectors, identical in the bench, the direct-pg server and the guest
// (which gets this source inlined: RAND_SOURCE).

export const RAND_SOURCE = `function mulberry32(seed) {
  return function () {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function seededVector(seed, dim) {
  const r = mulberry32(seed * 2654435761);
  const v = new Array(dim);
  for (let i = 0; i < dim; i++) v[i] = Math.round((r() * 2 - 1) * 1e6) / 1e6;
  return v;
}
// 100 seeded centres plus noise: data with the neighbourhood structure real embeddings have
// (uniform random vectors in 128 dims have none, and no ANN index finds their neighbours well).
function benchVector(seed, dim) {
  const r = mulberry32(seed * 2246822519 + 7);
  const c = seededVector(5000000 + Math.floor(r() * 100), dim);
  const n = seededVector(seed, dim);
  for (let i = 0; i < dim; i++) c[i] = Math.round((c[i] + 0.35 * n[i]) * 1e6) / 1e6;
  return c;
}
`;

const mod = new Function(`${RAND_SOURCE}; return { mulberry32, seededVector, benchVector };`)() as {
  seededVector(seed: number, dim: number): number[];
  benchVector(seed: number, dim: number): number[];
};

/** Deterministic vector for a seed; data rows use seeds 0..n-1, queries 1_000_000 + i. */
export const benchVector = mod.benchVector;
export const QUERY_SEED = 1_000_000;
export const DIM = 128;

/** Exact top-k by cosine similarity (ids), best first. */
export function exactTopK(data: Float64Array[], norms: number[], q: number[], k: number): number[] {
  let qn = 0;
  for (const x of q) qn += x * x;
  qn = Math.sqrt(qn);
  const best: [number, number][] = [];
  for (let i = 0; i < data.length; i++) {
    const d = data[i];
    let dot = 0;
    for (let j = 0; j < q.length; j++) dot += d[j] * q[j];
    const s = dot / (norms[i] * qn);
    if (best.length < k || s > best[best.length - 1][1]) {
      best.push([i, s]);
      best.sort((a, b) => b[1] - a[1]);
      if (best.length > k) best.pop();
    }
  }
  return best.map(([i]) => i);
}
