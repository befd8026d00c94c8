import { h, type Safe } from "./html.ts";

const W = 320;
const H = 120;
const L = 36;
const B = 16;
const T = 8;

export interface Series {
  /** null: no data in that bucket (a gap in a line, not a zero). */
  values: (number | null)[];
  /** Drawn as bars or as a line. */
  as: "bar" | "line";
}

function fmt(n: number): string {
  if (n >= 1000) return `${(n / 1000).toFixed(n >= 10_000 ? 0 : 1)}k`;
  return n >= 10 || n === 0 ? String(Math.round(n)) : n.toFixed(1);
}

/** A small server-rendered chart over `slots` equal time buckets; colours come from the stylesheet (s0/s1, b0/b1). */
export function chart(label: string, series: Series[], slots: number, startLabel: string, endLabel: string, unit = ""): Safe {
  const max = Math.max(1, ...series.flatMap((s) => s.values.map((v) => v ?? 0)));
  const x = (i: number) => L + ((W - L - 4) * i) / slots;
  const y = (v: number) => H - B - ((H - B - T) * v) / max;
  const bw = Math.max(1, (W - L - 4) / slots - 1);
  const shapes = series.map((s, k) =>
    s.as === "bar"
      ? h`${s.values.map((v, i) => (v ? h`<rect class="b${k}" x="${x(i).toFixed(1)}" y="${y(v).toFixed(1)}" width="${bw.toFixed(1)}" height="${(H - B - y(v)).toFixed(1)}"/>` : ""))}`
      : line(s.values, k, (i) => x(i) + bw / 2, y),
  );
  return h`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${label}"><title>${label}</title>
<line class="axis" x1="${L}" y1="${H - B}" x2="${W - 4}" y2="${H - B}"/><line class="axis" x1="${L}" y1="${T}" x2="${L}" y2="${H - B}"/>
<text x="${L - 4}" y="${T + 8}" text-anchor="end">${fmt(max)}${unit}</text><text x="${L - 4}" y="${H - B}" text-anchor="end">0</text>
<text x="${L}" y="${H - 3}">${startLabel}</text><text x="${W - 4}" y="${H - 3}" text-anchor="end">${endLabel}</text>
${shapes}</svg>`;
}

/** Runs of consecutive values as polylines; a lone value as a dot. */
function line(values: (number | null)[], k: number, x: (i: number) => number, y: (v: number) => number): Safe {
  const runs: [number, number][][] = [];
  let run: [number, number][] = [];
  values.forEach((v, i) => {
    if (v === null) {
      if (run.length) runs.push(run);
      run = [];
    } else run.push([x(i), y(v)]);
  });
  if (run.length) runs.push(run);
  return h`${runs.map((r) =>
    r.length === 1
      ? h`<circle class="d${k}" cx="${r[0][0].toFixed(1)}" cy="${r[0][1].toFixed(1)}" r="2"/>`
      : h`<polyline class="s${k}" points="${r.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(" ")}"/>`)}`;
}
