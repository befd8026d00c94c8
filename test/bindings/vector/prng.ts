/** mulberry32: a small seeded PRNG, so the synthetic sets are the same every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` vectors of `dim` standard-normal components. */
export function gaussianVectors(n: number, dim: number, seed: number): number[][] {
  const r = prng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
  return Array.from({ length: n }, () => Array.from({ length: dim }, () => Math.round(normal() * 1e4) / 1e4));
}

/** Exact top-k by cosine similarity, computed in JS. */
export function exactTopK(data: number[][], q: number[], k: number): number[] {
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const qn = norm(q);
  const scored = data.map((v, i) => {
    let dot = 0;
    for (let j = 0; j < v.length; j++) dot += v[j] * q[j];
    return [dot / (norm(v) * qn), i] as const;
  });
  scored.sort((a, b) => b[0] - a[0]);
  return scored.slice(0, k).map(([, i]) => i);
}

/**
 * `n` vectors around `clusters` random centres (spread 0.35 of a unit
 * component): closer to how real embeddings sit than uniform noise.
 */
export function clusteredVectors(n: number, dim: number, clusters: number, seed: number): number[][] {
  const centres = gaussianVectors(clusters, dim, seed);
  const noise = gaussianVectors(n, dim, seed + 1);
  const r = prng(seed + 2);
  return noise.map((v) => {
    const c = centres[Math.floor(r() * clusters)];
    return v.map((x, j) => Math.round((c[j] + 0.35 * x) * 1e4) / 1e4);
  });
}
