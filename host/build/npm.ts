// `npm:` and `jsr:` imports: the project's node_modules when its version fits the range,
// otherwise a package installed by npm (with the user's registry config) into a cache
// under .hangar/, at the version the lock file pins.
import { RAW_RESOLVE } from "./plugins.ts";
import type { Plugin, PluginBuild, ResolveResult } from "esbuild";
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import semver from "semver";
import type { Lock } from "./lock.ts";
import { parseJsr, parseNpm, type PackageSpec } from "./specifiers.ts";

export interface NpmOptions {
  lock: Lock;
  /** Installs go to `<cacheDir>/npm/<name>@<version>/node_modules`. */
  cacheDir: string;
  offline: boolean;
  /** The project directory: its `.npmrc` configures the installs. */
  cwd: string;
}

const JSR_REGISTRY = "https://npm.jsr.io";
const INSTALL_TIMEOUT_MS = 120_000;

/** Resolves `npm:` and `jsr:` specifiers to installed or cached packages. */
export function npmSpecifiers(opts: NpmOptions): Plugin {
  const installs = new Map<string, Promise<string>>();
  return {
    name: "npm-specifiers",
    setup(build) {
      build.onResolve({ filter: /^(npm|jsr):/ }, async (args) => {
        if (args.pluginData === RAW_RESOLVE) return undefined;
        const jsr = args.path.startsWith("jsr:");
        const spec = jsr ? parseJsr(args.path) : parseNpm(args.path);
        if (!spec) return { errors: [{ text: `"${args.path}" is not a valid ${jsr ? "jsr:@scope/name[@range][/path]" : "npm:name[@range][/path]"} specifier` }] };
        if (spec.range && !semver.validRange(spec.range) && spec.range !== "latest") {
          return { errors: [{ text: `"${args.path}": "${spec.range}" is not a version range` }] };
        }
        const resolveDir = args.resolveDir || opts.cwd;
        const local = await installed(build, spec, resolveDir, args.kind);
        if (local) return local;
        let dir: string;
        try {
          const key = `${spec.name}@${spec.range || "latest"}`;
          let p = installs.get(key);
          if (!p) {
            p = cached(spec, jsr, opts);
            installs.set(key, p);
          }
          dir = await p;
        } catch (e) {
          return { errors: [{ text: `"${args.path}": ${(e as Error).message}` }] };
        }
        const r = await build.resolve(`${spec.name}${spec.sub}`, { kind: args.kind, resolveDir: dir, pluginData: RAW_RESOLVE });
        if (r.errors.length) return { errors: [{ text: `"${args.path}": ${r.errors[0]!.text}` }] };
        return pass(r);
      });
    },
  };
}

function pass(r: ResolveResult) {
  return { path: r.path, namespace: r.namespace, external: r.external, sideEffects: r.sideEffects, pluginData: r.pluginData };
}

/** The package from node_modules above `resolveDir`, when its version is in range. */
async function installed(build: PluginBuild, spec: PackageSpec, resolveDir: string, kind: import("esbuild").ImportKind) {
  const r = await build.resolve(`${spec.name}${spec.sub}`, { kind, resolveDir, pluginData: RAW_RESOLVE });
  if (r.errors.length || !r.path) return null;
  if (!spec.range || spec.range === "latest") return pass(r);
  const version = await versionAt(r.path, spec.name);
  return version && semver.satisfies(version, spec.range, { includePrerelease: true }) ? pass(r) : null;
}

// Walks up from a resolved file to the package.json naming the package.
async function versionAt(file: string, name: string): Promise<string | null> {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = await readFile(join(dir, "package.json"), "utf8").then((t) => JSON.parse(t) as { name?: string; version?: string }, () => null);
    if (pkg?.name === name) return pkg.version ?? null;
  }
  return null;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Directory whose node_modules holds the package at its locked version, installing it when missing. */
async function cached(spec: PackageSpec, jsr: boolean, opts: NpmOptions): Promise<string> {
  const key = `${spec.name}@${spec.range || "latest"}`;
  const locked = opts.lock.npm(key);
  const root = join(opts.cacheDir, "npm");
  const dirFor = (version: string) => join(root, `${spec.name.replace("/", "+")}@${version}`);
  if (locked && (await exists(join(dirFor(locked), "node_modules", spec.name, "package.json")))) return dirFor(locked);
  if (opts.offline) {
    throw new Error(locked
      ? `locked at ${locked} but not in the cache (${root}), and --offline forbids installing it`
      : `not installed in node_modules, not in ${opts.lock.path}, and --offline forbids installing it`);
  }
  await mkdir(root, { recursive: true });
  const tmp = await mkdtemp(join(root, ".install-"));
  try {
    // Its own package.json keeps npm from walking up and installing into the project.
    await writeFile(join(tmp, "package.json"), '{ "name": "hangar-module-cache", "private": true }\n');
    // The project's .npmrc (registry, scopes, auth) applies to the cache install too.
    if (await exists(join(opts.cwd, ".npmrc"))) await copyFile(join(opts.cwd, ".npmrc"), join(tmp, ".npmrc"));
    const rc = await readFile(join(tmp, ".npmrc"), "utf8").catch(() => "");
    const args = ["install", "--no-save", "--no-package-lock", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error", `${spec.name}@${locked ?? (spec.range || "latest")}`];
    if (jsr && !/^@jsr:registry\s*=/m.test(rc)) args.push(`--@jsr:registry=${JSR_REGISTRY}`);
    await run("npm", args, tmp);
    const pkg = JSON.parse(await readFile(join(tmp, "node_modules", spec.name, "package.json"), "utf8")) as { version: string };
    const dir = dirFor(pkg.version);
    if (!(await exists(dir))) await rename(tmp, dir);
    if (!locked) opts.lock.setNpm(key, pkg.version);
    return dir;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const detail = String(stderr).split("\n").filter((l) => l.trim()).slice(0, 6).join("; ");
      reject(new Error(`npm ${args.filter((a) => !a.startsWith("--")).join(" ")} failed: ${detail || err.message}`));
    });
  });
}
