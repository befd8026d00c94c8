// A deterministic local embedder, so search works offline: character
// trigrams of each lower-cased word (with boundary marks) hashed (FNV-1a)
// into 256 signed buckets, then L2-normalised. Crude, but words sharing
// stems land close, which is what a demo corpus needs.
export const DIM = 256;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function embed(text: string): number[] {
  const v = new Array<number>(DIM).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const w = ` ${word} `;
    for (let i = 0; i + 3 <= w.length; i++) {
      const h = fnv1a(w.slice(i, i + 3));
      v[h % DIM] += h & 0x80000000 ? -1 : 1;
    }
    // The whole word counts more than any one of its trigrams.
    const hw = fnv1a(word);
    v[hw % DIM] += hw & 0x80000000 ? -2 : 2;
  }
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  return v.map((x) => Math.round((x / norm) * 1e6) / 1e6);
}
