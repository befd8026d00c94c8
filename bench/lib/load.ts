// HTTP load through autocannon, run as its own process so the bench's event
// loop never competes with it. Latencies are autocannon's (1 ms resolution).
import { resolve } from "node:path";
import { start } from "./procs.ts";

const bin = resolve(import.meta.dirname, "../../node_modules/.bin/autocannon");

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  errors: number;
  non2xx: number;
}

export interface LoadOptions {
  connections?: number;
  seconds: number;
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  /** Overall request rate cap (autocannon --overallRate). */
  rate?: number;
}

/** Drive `url` with a fixed number of connections for a fixed time. */
export async function load(url: string, opts: LoadOptions): Promise<LoadResult> {
  if (!/^http:\/\/127\.0\.0\.1:/.test(url)) throw new Error(`load generator refuses non-loopback url ${url}`);
  const args = ["-j", "-c", String(opts.connections ?? 32), "-d", String(opts.seconds)];
  if (opts.method) args.push("-m", opts.method);
  if (opts.rate) args.push("--overallRate", String(opts.rate));
  if (opts.body) args.push("-b", opts.body);
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push("-H", `${k}=${v}`);
  args.push(url);
  const p = start("autocannon", bin, args);
  let out = "";
  p.child.stdout!.on("data", (b: Buffer) => (out += b));
  const code = await p.exited;
  if (code !== "0") throw new Error(`autocannon exited ${code}: ${p.output().slice(-2000)}`);
  const j = JSON.parse(out) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    errors: number;
    timeouts: number;
    non2xx: number;
    duration: number;
    "2xx": number;
  };
  return {
    rps: j["2xx"] / j.duration,
    p50: j.latency.p50,
    p99: j.latency.p99,
    total: j.requests.total,
    errors: j.errors + j.timeouts,
    non2xx: j.non2xx,
  };
}

/** A short warm-up, then the measured run. */
export async function warmAndLoad(url: string, opts: LoadOptions & { warmSeconds?: number }): Promise<LoadResult> {
  await load(url, { ...opts, seconds: opts.warmSeconds ?? 2 });
  return load(url, opts);
}
