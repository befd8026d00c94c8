import { isValidFunctionName } from "../../build/index.ts";
import { render, type Ctx, type Dash } from "../context.ts";
import { chartBuckets, type Bucket } from "../data.ts";
import { h } from "../html.ts";
import { BASE, qs } from "../layout.ts";
import { chart } from "../svg.ts";

const RANGES: Record<string, { minutes: number; bucket: number }> = {
  "1h": { minutes: 60, bucket: 60 },
  "6h": { minutes: 360, bucket: 300 },
  "24h": { minutes: 1440, bucket: 1800 },
  "7d": { minutes: 10_080, bucket: 3 * 3600 },
};

const hhmm = (d: Date, long: boolean) => (long ? d.toISOString().slice(5, 16).replace("T", " ") : d.toISOString().slice(11, 16)) + "Z";

/** Requests, errors and p50/p99 latency per function over time, from the invocation ledger. */
export async function chartsPage(c: Ctx, d: Dash): Promise<Response> {
  const rangeQ = c.req.query("range") ?? "1h";
  const range = RANGES[rangeQ] ? rangeQ : "1h";
  const { minutes, bucket } = RANGES[range];
  const fnQ = c.req.query("function") || null;
  const fn = fnQ && isValidFunctionName(fnQ) ? fnQ : null;
  const { now, buckets } = await chartBuckets(d.deps.db, minutes, bucket, fn);
  const slots = Math.ceil((minutes * 60) / bucket);
  const end = Math.floor(now.getTime() / 1000 / bucket) * bucket;
  const first = end - (slots - 1) * bucket;
  const byFn = new Map<string, Bucket[]>();
  for (const b of buckets) byFn.set(b.function, [...(byFn.get(b.function) ?? []), b]);
  const long = minutes > 1440;
  const start = hhmm(new Date(first * 1000), long);
  const stop = hhmm(new Date((end + bucket) * 1000), long);
  const figures = [...byFn].map(([name, bs]) => {
    // Counts are 0 in an empty bucket; latency has no value there.
    const at = (k: keyof Bucket, empty: number | null = 0) => {
      const out = new Array<number | null>(slots).fill(empty);
      for (const b of bs) {
        const i = Math.round((b.at.getTime() / 1000 - first) / bucket);
        if (i >= 0 && i < slots) out[i] = Number(b[k]);
      }
      return out;
    };
    const total = bs.reduce((n, b) => n + b.requests, 0);
    const errors = bs.reduce((n, b) => n + b.errors, 0);
    return h`<figure><figcaption><a href="${BASE}/functions/${name}">${name}</a> <span class="muted">${total} requests, ${errors} errors</span></figcaption>
${chart(`${name}: requests and errors per ${bucket / 60} min, ${range}`, [{ values: at("requests"), as: "bar" }, { values: at("errors"), as: "bar" }], slots, start, stop)}
<p class="legend"><span class="k0">■ requests</span> <span class="k1">■ errors</span></p>
${chart(`${name}: p50 and p99 latency in ms, ${range}`, [{ values: at("p50", null), as: "line" }, { values: at("p99", null), as: "line" }], slots, start, stop, " ms")}
<p class="legend"><span class="k0">— p50</span> <span class="k1">— p99</span> latency</p></figure>`;
  });
  const nav = h`<p>Range: ${Object.keys(RANGES).map((r) => (r === range ? h`<strong>${r}</strong> ` : h`<a href="${BASE}/charts${qs({ range: r, function: fn })}">${r}</a> `))}
${fn ? h` · <a href="${BASE}/charts${qs({ range })}">all functions</a>` : ""}</p>`;
  return render(c, { title: fn ? `Charts: ${fn}` : "Charts", section: "charts" }, h`${nav}<div class="charts">${figures.length ? figures : h`<p class="muted">No invocations in the last ${range}.</p>`}</div>`);
}
