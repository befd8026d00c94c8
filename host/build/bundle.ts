import { build, type BuildFailure, type BuildOptions, type Message, type Metafile, type Plugin } from "esbuild";
import { createHash } from "node:crypto";
import { basename, dirname, join, relative, resolve } from "node:path";
import { BuildError } from "./errors.ts";
import { MODULE_MARKER } from "../../runtime/index.ts";
import { builtinRefusal, isNodeBuiltin, nodeBuiltins, NODE_GLOBALS_INJECT } from "./node-builtins.ts";
import { findImportMap, importMap } from "./import-map.ts";
import { Lock } from "./lock.ts";
import { npmSpecifiers } from "./npm.ts";
import { hangarModule } from "./plugins.ts";
import { remoteModules } from "./remote.ts";

/** A bundled function version, ready to store and evaluate as an ES module. */
export interface Bundle {
  /** ES module (first line MODULE_MARKER, no imports or exports) leaving the namespace in `globalThis.__hangar_exports`. */
  code: string;
  /** Source map v3 JSON, sources relative to `cwd`, with sourcesContent. */
  map: string;
  /** sha256 hex of `code`. */
  hash: string;
  /** UTF-8 byte length of `code`. */
  bytes: number;
  /** esbuild warnings, formatted like errors. */
  warnings: string[];
}

export interface BundleOptions {
  /** Refuse bundles larger than this; default 10 MiB. */
  maxBytes?: number;
  /** Paths in messages and source maps are relative to this; default `process.cwd()`. */
  cwd?: string;
  /** Name the bundle is evaluated under (what guest stacks print); default "bundle.js". */
  filename?: string;
  /** Resolvers tried before the built-in ones. */
  plugins?: Plugin[];
  /** Where `hangar.lock.json` and import maps live; default: the folder holding the function. */
  functionsDir?: string;
  /** Remote modules and cached npm/jsr installs; default `<cwd>/.hangar/cache`. */
  cacheDir?: string;
  /** Refuse imports that would need the network (not in the lock file and cache). */
  offline?: boolean;
}

export const DEFAULT_MAX_BUNDLE_BYTES = 10 * 1024 * 1024;
export const BUNDLE_FILENAME = "bundle.js";
/** Global the bundle assigns the module namespace to. */
export const EXPORTS_GLOBAL = "__hangar_exports";

/** Bundles one function entry with its local modules and npm dependencies for the sandbox. */
export async function bundleFunction(entry: string, opts: BundleOptions = {}): Promise<Bundle> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const filename = opts.filename ?? BUNDLE_FILENAME;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
  const outfile = join(cwd, filename);
  const shown = relative(cwd, resolve(cwd, entry)) || entry;
  const functionsDir = resolve(cwd, opts.functionsDir ?? defaultFunctionsDir(resolve(cwd, entry)));
  const cacheDir = resolve(cwd, opts.cacheDir ?? join(".hangar", "cache"));
  const offline = opts.offline ?? false;
  const lock = await Lock.open(functionsDir);
  // a folder function's own deno.json first (Supabase's layout: functions/<name>/deno.json)
  const map = await findImportMap([dirname(resolve(cwd, entry)), functionsDir, cwd]);

  let result;
  // awaits become .then calls, so each resumes as the invocation that awaited (runtime/guest/bridge.js);
  // esbuild cannot lower async functions in a module that uses top-level await, so such a module keeps
  // native await and its continuations run as the invocation whose host answer resumed them.
  const options = (lowerAsync: boolean): BuildOptions => ({
      // A virtual entry hands the module namespace to the runtime once the module (and its top-level await) finished.
      stdin: {
        contents: `import * as ns from ${JSON.stringify(resolve(cwd, entry))};\nglobalThis.${EXPORTS_GLOBAL} = ns;\n`,
        resolveDir: cwd,
        sourcefile: "<hangar-entry>",
        loader: "js",
      },
      absWorkingDir: cwd,
      outfile,
      bundle: true,
      write: false,
      // An ES module, as Workers and Deno load functions: top-level await works.
      format: "esm",
      banner: { js: MODULE_MARKER },
      platform: "browser",
      target: "es2022",
      supported: lowerAsync ? { "async-await": false } : {},
      mainFields: ["browser", "module", "main"],
      conditions: ["workerd", "worker", "browser"],
      inject: [NODE_GLOBALS_INJECT],
      sourcemap: "external",
      sourcesContent: true,
      minify: false,
      charset: "utf8",
      metafile: true,
      logLevel: "silent",
      // npm packages commonly branch on this.
      define: { "process.env.NODE_ENV": '"production"', global: "globalThis" },
      plugins: [
        hangarModule(),
        ...(opts.plugins ?? []),
        ...(map ? [importMap(map)] : []),
        remoteModules({ lock, cacheDir, offline }),
        npmSpecifiers({ lock, cacheDir, offline, cwd }),
        nodeBuiltins(),
      ],
  });
  try {
    try {
      result = await build(options(true));
    } catch (cause) {
      const errors = (cause as Partial<BuildFailure>).errors;
      if (!errors?.some((e) => /^Top-level await is not available/.test(e.text))) throw cause;
      result = await build(options(false));
    }
  } catch (cause) {
    const errors = (cause as Partial<BuildFailure>).errors;
    if (!Array.isArray(errors)) throw new BuildError(`bundling ${shown} failed: ${String(cause)}`, { cause });
    throw new BuildError(`bundling ${shown} failed:\n${errors.map(formatMessage).join("\n")}`, { cause });
  }

  // Only a build that succeeded records what it resolved.
  await lock.save();
  const out = result.outputFiles ?? [];
  const codeFile = out.find((f) => f.path === outfile);
  const mapFile = out.find((f) => f.path === `${outfile}.map`);
  if (!codeFile || !mapFile) throw new BuildError(`bundling ${shown} produced no output`);
  const code = codeFile.text;
  const bytes = codeFile.contents.byteLength;
  if (bytes > maxBytes) {
    throw new BuildError(
      `bundle for ${shown} is ${formatSize(bytes)} (${bytes} bytes), over the limit of ${formatSize(maxBytes)} (${maxBytes} bytes)` +
        largestInputs(result.metafile, relative(cwd, outfile)),
    );
  }
  return {
    code,
    map: mapFile.text,
    hash: createHash("sha256").update(code).digest("hex"),
    bytes,
    warnings: result.warnings.map(formatMessage),
  };
}

export { isNodeBuiltin };

/** `file:line:column: text` (column 1-based), then the offending source line indented. */
export function formatMessage(m: Message): string {
  const loc = m.location;
  const where = loc ? `${loc.file}:${loc.line}:${loc.column + 1}: ` : "";
  const text = rewrite(m.text);
  return loc?.lineText ? `${where}${text}\n    ${loc.lineText.trim()}` : `${where}${text}`;
}

function rewrite(text: string): string {
  const m = /^Could not resolve "(.+)"$/.exec(text);
  if (!m) return text;
  const spec = m[1]!;
  if (isNodeBuiltin(spec)) return builtinRefusal(spec);
  if (/^\/\//.test(spec)) return `"${spec}" cannot be imported: write the full https:// URL`;
  return `Could not resolve "${spec}": not a file, and not installed in a node_modules next to the function or above`;
}

// functions/<name>.ts and functions/<name>/index.ts both live in functions/.
function defaultFunctionsDir(entry: string): string {
  const dir = dirname(entry);
  return /^index\.[cm]?[jt]sx?$/.test(basename(entry)) ? dirname(dir) : dir;
}

function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

// Sums output bytes per npm package (or file), so the size error says what to cut.
function largestInputs(meta: Metafile | undefined, outKey: string): string {
  const inputs = meta?.outputs[outKey]?.inputs;
  if (!inputs) return "";
  const sizes = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    const pkg = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
    const key = pkg ? `npm:${pkg}` : path;
    sizes.set(key, (sizes.get(key) ?? 0) + bytesInOutput);
  }
  const top = [...sizes].sort((a, b) => b[1] - a[1]).slice(0, 5);
  return `; largest inputs: ${top.map(([k, n]) => `${k} ${formatSize(n)}`).join(", ")}`;
}
