import { build, type BuildFailure, type Message, type Metafile } from "esbuild";
import { createHash } from "node:crypto";
import { builtinModules } from "node:module";
import { join, relative, resolve } from "node:path";
import { BuildError } from "./errors.ts";
import { hangarModule, noRemoteImports, npmSpecifiers } from "./plugins.ts";

/** A bundled function version, ready to store and evaluate as a classic script. */
export interface Bundle {
  /** IIFE leaving the module namespace in `globalThis.__hangar_exports`. */
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

  let result;
  try {
    result = await build({
      entryPoints: [resolve(cwd, entry)],
      absWorkingDir: cwd,
      outfile,
      bundle: true,
      write: false,
      format: "iife",
      globalName: EXPORTS_GLOBAL,
      platform: "neutral",
      target: "es2022",
      // awaits become .then calls, so each resumes as the invocation that awaited (runtime/guest/bridge.js)
      supported: { "async-await": false },
      mainFields: ["browser", "module", "main"],
      conditions: ["worker", "browser"],
      sourcemap: "external",
      sourcesContent: true,
      minify: false,
      charset: "utf8",
      metafile: true,
      logLevel: "silent",
      // npm packages commonly branch on this; there is no `process` in the sandbox.
      define: { "process.env.NODE_ENV": '"production"' },
      plugins: [hangarModule(), npmSpecifiers(), noRemoteImports()],
    });
  } catch (cause) {
    const errors = (cause as Partial<BuildFailure>).errors;
    if (!Array.isArray(errors)) throw new BuildError(`bundling ${shown} failed: ${String(cause)}`, { cause });
    throw new BuildError(`bundling ${shown} failed:\n${errors.map(formatMessage).join("\n")}`, { cause });
  }

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

const BUILTINS = new Set(builtinModules);

/** True for `node:*` and bare Node built-in names (`fs`, `fs/promises`, `child_process`, ...). */
export function isNodeBuiltin(spec: string): boolean {
  return spec.startsWith("node:") || BUILTINS.has(spec) || BUILTINS.has(spec.split("/")[0] ?? "");
}

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
  if (isNodeBuiltin(spec)) return `"${spec}" is not available in Hangar functions (no Node built-ins in the sandbox)`;
  if (/^(https?:|jsr:|\/\/)/.test(spec)) return `"${spec}" cannot be imported: only relative files and packages installed in node_modules are bundled`;
  return `Could not resolve "${spec}": not a file, and not installed in a node_modules next to the function or above`;
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
