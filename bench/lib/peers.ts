// The peers, each serving one handler on 127.0.0.1: raw Hono on Node, workerd
// (module worker) and Deno (Deno.serve), started from their npm packages' binaries.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "./net.ts";
import { onExit, start, waitForHttp, type Proc } from "./procs.ts";

const root = resolve(import.meta.dirname, "../..");
// workerd and Deno ship per-platform binaries as optional packages the registry
// here does not carry for every platform, so they stay out of the lockfile
// (npm ci must work anywhere) and are installed on first use into bench/.peers.
const PEERS = join(root, "bench/.peers");
const PEER_PACKAGES = ["workerd@1.20261117.1", "deno@2.9.6"];
const WORKERD = join(PEERS, "node_modules/.bin/workerd");
const DENO = join(PEERS, "node_modules/.bin/deno");

/** Install the peer runtimes' npm packages into bench/.peers when missing. */
function ensurePeers(): void {
  if (existsSync(WORKERD) && existsSync(DENO)) return;
  mkdirSync(PEERS, { recursive: true });
  if (!existsSync(join(PEERS, "package.json"))) writeFileSync(join(PEERS, "package.json"), '{ "name": "hangar-bench-peers", "private": true }\n');
  const r = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--prefix", PEERS, ...PEER_PACKAGES], { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`installing ${PEER_PACKAGES.join(", ")} into bench/.peers failed`);
}

/** The body of functions/hello.ts, as plain JS every peer runs unchanged. */
export const HELLO_HANDLER = `async function handle(request) {
  const url = new URL(request.url);
  const name = url.searchParams.get("name") ?? "world";
  return Response.json({ message: \`Hello, \${name}!\`, method: request.method, path: url.pathname });
}`;

export interface Served {
  url: string;
  proc: Proc;
  /** Spawn to first 2xx, in ms. */
  startMs: number;
  stop(): Promise<void>;
}

let scratch: string | null = null;
/** A temp directory removed when the bench exits. */
export function scratchDir(name: string): string {
  if (!scratch) {
    const dir = mkdtempSync(join(tmpdir(), "hangar-bench-"));
    scratch = dir;
    onExit(() => rmSync(dir, { recursive: true, force: true }));
  }
  const d = join(scratch, name);
  mkdirSync(d, { recursive: true });
  return d;
}

async function serve(name: string, cmd: string, args: string[], port: number, path: string, env?: NodeJS.ProcessEnv, cwd?: string): Promise<Served> {
  const t0 = performance.now();
  const proc = start(name, cmd, args, { env: { ...process.env, ...env }, cwd });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(url + path, proc, 30_000, 1);
  return { url, proc, startMs: performance.now() - t0, stop: () => proc.stop() };
}

/** workerd with one module worker whose source is `moduleSource` (must `export default { fetch }`). */
export async function startWorkerd(moduleSource: string, path = "/", tag = "w"): Promise<Served> {
  const dir = scratchDir(`workerd-${tag}`);
  const port = await freePort();
  writeFileSync(join(dir, "worker.js"), moduleSource);
  writeFileSync(
    join(dir, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const w :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "worker.js") ],
  compatibilityDate = "2024-09-23",
);
`,
  );
  ensurePeers();
  return serve("workerd", WORKERD, ["serve", join(dir, "config.capnp")], port, path, {}, dir);
}

/** workerd module source for a handler named `handle`, plus optional extra code. */
export const workerdModule = (handler: string, extra = "") => `${extra}\n${handler}\nexport default { fetch: (request) => handle(request) };\n`;

/** Deno.serve running `scriptSource` (it reads the port from PORT). */
export async function startDeno(scriptSource: string, path = "/", tag = "d"): Promise<Served> {
  const dir = scratchDir(`deno-${tag}`);
  const port = await freePort();
  writeFileSync(join(dir, "server.js"), scriptSource);
  ensurePeers();
  const env = { PORT: String(port), DENO_NO_UPDATE_CHECK: "1", DENO_DIR: join(dir, ".deno"), NO_COLOR: "1" };
  return serve("deno", DENO, ["run", "--allow-net=127.0.0.1", "--allow-env=PORT", "--no-prompt", join(dir, "server.js")], port, path, env, dir);
}

/** Deno script source for a handler named `handle`, plus optional extra code. */
export const denoScript = (handler: string, extra = "") =>
  `${extra}\n${handler}\nDeno.serve({ hostname: "127.0.0.1", port: Number(Deno.env.get("PORT")), onListen() {} }, (request) => handle(request));\n`;

/** `--import` of the module hooks Hangar itself runs under (bin/ts-register.js): a TypeScript peer pays what Hangar pays to load, nothing per call. */
export const TS_IMPORT = ["--import", join(root, "bin/ts-register.js")];

/** A Node script (TypeScript, see TS_IMPORT) from bench/peers, given PORT and extra env. */
export async function startNodeScript(script: string, path = "/", env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const port = await freePort();
  return serve(script, process.execPath, [...TS_IMPORT, join(root, "bench/peers", script)], port, path, { PORT: String(port), ...env }, root);
}
