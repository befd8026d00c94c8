// `https://` imports (deno.land/x, raw GitHub, any module server): fetched once at deploy,
// kept in a content-addressed cache, pinned by integrity in the lock file.
import type { Loader, Plugin } from "esbuild";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { integrityOf, type Lock } from "./lock.ts";
import { esmShToNpm } from "./specifiers.ts";

export interface RemoteOptions {
  lock: Lock;
  /** `<cache>/remote/<integrity>` holds each module's bytes. */
  cacheDir: string;
  /** Never reach the network: anything not in lock and cache fails. */
  offline: boolean;
}

const FETCH_TIMEOUT_MS = 30_000;
const LOADERS: Record<string, Loader> = { ".ts": "ts", ".mts": "ts", ".tsx": "tsx", ".js": "js", ".mjs": "js", ".jsx": "jsx", ".json": "json" };

function loaderFor(url: string, contentType: string | null): Loader {
  const path = new URL(url).pathname;
  const ext = /\.[a-z]+$/.exec(path)?.[0];
  if (ext && LOADERS[ext]) return LOADERS[ext];
  if (contentType && /typescript/.test(contentType)) return /tsx/.test(contentType) ? "tsx" : "ts";
  if (contentType && /json/.test(contentType)) return "json";
  return "js";
}

function cachePath(dir: string, integrity: string): string {
  return join(dir, "remote", integrity.replace(/^sha256-/, "").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""));
}

interface Fetched { url: string; bytes: Uint8Array; contentType: string | null }

async function download(url: string): Promise<Fetched> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: "follow", signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: "application/typescript, application/javascript, */*" } });
  } catch (cause) {
    throw new Error(`fetching ${url} failed: ${(cause as Error).message}`, { cause });
  }
  if (!res.ok) throw new Error(`fetching ${url} failed: HTTP ${res.status} ${res.statusText}`);
  return { url: res.url || url, bytes: new Uint8Array(await res.arrayBuffer()), contentType: res.headers.get("content-type") };
}

/** Resolves and loads URL imports (and the relative imports inside them) through lock and cache. */
export function remoteModules(opts: RemoteOptions): Plugin {
  const loaded = new Map<string, Promise<{ url: string; bytes: Uint8Array; contentType: string | null }>>();

  async function get(url: string): Promise<{ url: string; bytes: Uint8Array; contentType: string | null }> {
    const locked = opts.lock.remote(url);
    if (locked) {
      const file = cachePath(opts.cacheDir, locked.integrity);
      const cached = await readFile(file).catch(() => null);
      if (cached && integrityOf(cached) === locked.integrity) return { url: locked.redirect ?? url, bytes: cached, contentType: null };
      if (opts.offline) throw new Error(`"${url}" is locked but not in the cache (${file}), and --offline forbids fetching it`);
      const got = await download(url);
      const integrity = integrityOf(got.bytes);
      if (integrity !== locked.integrity) {
        throw new Error(
          `remote module ${url} changed since it was locked: ${opts.lock.path} has ${locked.integrity}, the server now sends ${integrity}. ` +
            `If the change is expected, delete its entry from the lock file and deploy again`,
        );
      }
      await store(file, got.bytes);
      return got;
    }
    if (opts.offline) throw new Error(`"${url}" is not in ${opts.lock.path}, and --offline forbids fetching it`);
    const got = await download(url);
    const integrity = integrityOf(got.bytes);
    await store(cachePath(opts.cacheDir, integrity), got.bytes);
    opts.lock.setRemote(url, got.url !== url ? { integrity, redirect: got.url } : { integrity });
    return got;
  }

  return {
    name: "remote-modules",
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        const fromRemote = args.namespace === "remote";
        const isUrl = /^https?:\/\//.test(args.path);
        if (!isUrl && !(fromRemote && /^(\.{0,2}\/)/.test(args.path))) return undefined;
        const url = new URL(args.path, fromRemote ? args.importer : undefined).href;
        const npm = esmShToNpm(url);
        if (npm) {
          // esm.sh names an npm package: bundle that package instead of esm.sh's build of it.
          const r = await build.resolve(npm, { kind: args.kind, resolveDir: build.initialOptions.absWorkingDir ?? process.cwd() });
          return r.errors.length ? { errors: r.errors.map((e) => ({ text: `${url} (as ${npm}): ${e.text}` })) } : r;
        }
        let mod: { url: string };
        try {
          let p = loaded.get(url);
          if (!p) {
            p = get(url);
            loaded.set(url, p);
          }
          mod = await p;
        } catch (e) {
          return { errors: [{ text: (e as Error).message }] };
        }
        if (mod.url !== url && !loaded.has(mod.url)) loaded.set(mod.url, loaded.get(url)!);
        return { path: mod.url, namespace: "remote" };
      });
      build.onLoad({ filter: /.*/, namespace: "remote" }, async (args) => {
        const mod = await loaded.get(args.path)!;
        return { contents: mod.bytes, loader: loaderFor(args.path, mod.contentType) };
      });
    },
  };
}

async function store(file: string, bytes: Uint8Array): Promise<void> {
  await mkdir(join(file, ".."), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
}
