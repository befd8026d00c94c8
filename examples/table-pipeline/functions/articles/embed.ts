// A deterministic local embedder: hashed bag of words (and word bigrams) into
// DIM buckets, L2-normalised. No network, no model, same text -> same vector.
// Swap it for a real provider (an embeddings API via fetch) in production.
export const DIM = 128;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function tokens(text: string): string[] {
  return text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "").split(/[^a-z0-9]+/).filter((w) => w.length > 1);
}

export function embed(text: string): number[] {
  const v = new Array<number>(DIM).fill(0);
  const words = tokens(text);
  const features = [...words, ...words.slice(1).map((w, i) => `${words[i]} ${w}`)];
  for (const f of features) {
    const h = fnv1a(f);
    // The sign bit spreads collisions instead of piling them up.
    v[h % DIM] += h & 0x80000000 ? -1 : 1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}
