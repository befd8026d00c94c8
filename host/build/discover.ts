import { readdir, stat } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { BuildError } from "./errors.ts";

export interface DiscoveredFunction {
  name: string;
  /** Absolute path of the entry file. */
  entry: string;
}

export const FUNCTION_NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const ENTRY_EXTS = [".ts", ".mts", ".tsx", ".js", ".mjs", ".jsx"];

/** True when `name` is a valid function name (SPEC §3). */
export function isValidFunctionName(name: string): boolean {
  return FUNCTION_NAME_RE.test(name);
}

// Helpers (`_shared/`), dotfiles, tests and declaration files live beside functions without being one.
function ignored(file: string): boolean {
  return file.startsWith("_") || file.startsWith(".") || file === "node_modules" ||
    /\.(test|spec)\.[cm]?[jt]sx?$/.test(file) || /\.d\.[cm]?ts$/.test(file);
}

async function kindOf(path: string): Promise<"file" | "dir" | null> {
  try {
    const s = await stat(path); // follows symlinks on purpose
    return s.isFile() ? "file" : s.isDirectory() ? "dir" : null;
  } catch {
    return null;
  }
}

async function indexOf(dir: string): Promise<string | null> {
  for (const ext of ENTRY_EXTS) {
    const p = join(dir, `index${ext}`);
    if ((await kindOf(p)) === "file") return p;
  }
  return null;
}

/** Lists the functions in `dir`: `<name>.ts` or `<name>/index.ts` (also .mts/.tsx/.js/.mjs/.jsx), sorted by name. */
export async function discoverFunctions(dir: string): Promise<DiscoveredFunction[]> {
  const { functions, problems } = await scanFunctions(dir);
  if (problems.length) throw new BuildError(problems.join("\n"));
  return functions;
}

/** Like discoverFunctions, but a bad entry (name, duplicate) is reported beside the good ones instead of failing all (dev). */
export async function scanFunctions(dir: string): Promise<{ functions: DiscoveredFunction[]; problems: string[] }> {
  const root = resolve(dir);
  let names: string[];
  try {
    names = await readdir(root);
  } catch (cause) {
    throw new BuildError(`functions directory not found or unreadable: ${dir}`, { cause });
  }
  const found = new Map<string, string>();
  const problems: string[] = [];
  const rel = (p: string) => {
    const r = relative(process.cwd(), p);
    return r === "" || r.startsWith("..") ? p : r;
  };

  for (const file of names.sort()) {
    if (ignored(file)) continue;
    const full = join(root, file);
    const kind = await kindOf(full);
    let name: string;
    let entry: string | null;
    if (kind === "dir") {
      entry = await indexOf(full);
      if (!entry) continue; // a folder without an index is shared code, not a function
      name = file;
    } else if (kind === "file") {
      const ext = ENTRY_EXTS.find((e) => file.endsWith(e));
      if (!ext) continue; // README.md, data files, ...
      name = file.slice(0, -ext.length);
      entry = full;
    } else {
      continue;
    }
    if (!isValidFunctionName(name)) {
      problems.push(`${rel(entry)}: "${name}" is not a valid function name ` +
        `(lowercase letters, digits and "-", starting with a letter or digit, at most 63 characters)`);
      continue;
    }
    const prev = found.get(name);
    if (prev) {
      problems.push(`${rel(entry)}: function "${name}" is already defined by ${rel(prev)}`);
      continue;
    }
    found.set(name, entry);
  }
  const functions = [...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, entry]) => ({ name, entry }));
  return { functions, problems };
}
