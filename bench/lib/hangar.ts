// A `hangar start` instance on a benchmark database, and ways to deploy to it:
// the CLI (`hangar deploy --url`), or the same admin operation over HTTP with
// a bundle built beforehand (so build time is not counted as cold start).
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { bundleFunction, type Bundle } from "../../host/build/index.ts";
import { freePort } from "./net.ts";
import { start, waitForHttp, type Proc } from "./procs.ts";

export const root = resolve(import.meta.dirname, "../..");
const cli = resolve(root, "bin/hangar.js");

export interface Hangar {
  url: string;
  token: string;
  proc: Proc;
  env: NodeJS.ProcessEnv;
  /** `hangar deploy [names] --dir dir` through the CLI; throws with its output on failure. */
  cliDeploy(dir: string, names?: string[]): Promise<string>;
  /** POST functions.deploy with a prebuilt bundle; resolves when the deploy call returns. */
  deploy(name: string, bundle: Pick<Bundle, "code" | "map" | "hash">): Promise<{ version: number }>;
  stop(): Promise<void>;
}

export interface HangarOptions {
  databaseUrl: string;
  /** Extra environment (e.g. HANGAR_FETCH_ALLOW_PRIVATE for a loopback collector). */
  env?: NodeJS.ProcessEnv;
}

/** Start `hangar start` bound to 127.0.0.1 on a free port and wait for its health check. */
export async function startHangar(opts: HangarOptions): Promise<Hangar> {
  const port = await freePort();
  const token = `bench_${randomBytes(12).toString("hex")}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: opts.databaseUrl,
    HANGAR_ADMIN_TOKEN: token,
    HANGAR_SECRET_KEY: randomBytes(32).toString("hex"),
    HANGAR_HOST: "127.0.0.1",
    HANGAR_PORT: String(port),
    HANGAR_LOG_LEVEL: "warn",
    ...opts.env,
  };
  // BENCH_CPU_PROF=dir: profile each `hangar start` (every thread) into dir, as `node --cpu-prof` does.
  const prof = process.env.BENCH_CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", resolve(process.env.BENCH_CPU_PROF)] : [];
  // BENCH_NODE_ARGS="--flag ...": extra Node/V8 flags for `hangar start` (e.g. --trace-gc-nvp).
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  const proc = start("hangar start", process.execPath, [...prof, ...nodeArgs, cli, "start"], { env, cwd: root });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/_hangar/health`, proc, 60_000);
  const cliEnv = { ...env, HANGAR_URL: url };
  return {
    url,
    token,
    proc,
    env,
    async cliDeploy(dir, names = []) {
      const p = start("hangar deploy", process.execPath, [cli, "deploy", ...names, "--dir", dir], { env: cliEnv, cwd: root });
      const code = await p.exited;
      if (code !== "0") throw new Error(`hangar deploy ${names.join(" ")} failed (${code}):\n${p.output().slice(-3000)}`);
      return p.output();
    },
    async deploy(name, bundle) {
      const res = await fetch(`${url}/_hangar/api/functions.deploy`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ name, code: bundle.code, map: bundle.map, hash: bundle.hash }),
      });
      const body = (await res.json().catch(() => null)) as { result?: { version: number }; error?: { message: string } } | null;
      if (!res.ok) throw new Error(`deploy ${name}: ${body?.error?.message ?? res.status}`);
      return body!.result!;
    },
    stop: () => proc.stop(10_000),
  };
}

/** Bundle a function file the way `hangar deploy` does. */
export function bundle(entry: string): Promise<Bundle> {
  return bundleFunction(entry, { cwd: root });
}

/**
 * Whether the guest can use a binding: deploys `probe`, invokes it and
 * returns null when it answered 200, else the reason (for a clear skip).
 */
export async function probe(h: Hangar, name: string, entry: string, path = ""): Promise<string | null> {
  let b: Bundle;
  try {
    b = await bundle(entry);
    await h.deploy(name, b);
  } catch (err) {
    return `deploying the probe failed: ${(err as Error).message.split("\n")[0]}`;
  }
  try {
    await waitForHttp(`${h.url}/functions/v1/${name}${path}`, null, 3000, 50);
    return null;
  } catch {
    const res = await fetch(`${h.url}/functions/v1/${name}${path}`);
    const text = (await res.text()).slice(0, 300);
    return `the probe answered ${res.status}: ${text}`;
  }
}

/** Wait until `name` is active on the instance (any answer but 404). */
export async function waitDeployed(h: Hangar, name: string, timeoutMs = 10_000): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    const res = await fetch(`${h.url}/functions/v1/${name}`);
    await res.arrayBuffer();
    if (res.status !== 404) return;
    if (performance.now() - t0 > timeoutMs) throw new Error(`${name} was not active after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
