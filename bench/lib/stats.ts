/** Percentile (0..100) of a sample, nearest-rank; NaN when empty. */
export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = xs.slice().sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

export const median = (xs: number[]) => percentile(xs, 50);

/** A fixed number of significant-looking digits for tables. */
export function fmt(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return "n/a";
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString("en-US");
  return n.toFixed(digits);
}

export const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);

export const fmtRatio = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : "n/a");

export const mb = (bytes: number) => bytes / 1024 / 1024;

/** "met" / "missed by ..." against a target where higher is better (or lower with `lowerIsBetter`). */
export function verdict(value: number, target: number, lowerIsBetter = false, unit = "x"): string {
  if (!Number.isFinite(value)) return "not measured";
  const ok = lowerIsBetter ? value <= target : value >= target;
  if (ok) return `met (${fmt(value, 2)}${unit} vs ${lowerIsBetter ? "<=" : ">="} ${target}${unit})`;
  const by = lowerIsBetter ? value / target : target / value;
  return `missed (${fmt(value, 2)}${unit} vs ${lowerIsBetter ? "<=" : ">="} ${target}${unit}; off by ${by.toFixed(2)}x)`;
}
