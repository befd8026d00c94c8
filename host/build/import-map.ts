// Import maps as Deno reads them: `imports` of deno.json(c) (or the file its `importMap` names),
// or import_map.json, in a folder function's own folder, the functions directory or the project root.
import type { Plugin } from "esbuild";
import { RAW_RESOLVE } from "./plugins.ts";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { BuildError } from "./errors.ts";

export interface ImportMap {
  /** File it came from. */
  path: string;
  imports: Record<string, string>;
}

const SKIP = Symbol("import-map");

function parseJsonc(text: string, path: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    // deno.jsonc: drop comments and trailing commas, outside strings.
    const stripped = text.replace(/("(?:\\.|[^"\\])*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (_m, str: string | undefined) => str ?? "").replace(/,(\s*[}\]])/g, "$1");
    try {
      return JSON.parse(stripped) as Record<string, unknown>;
    } catch (cause) {
      throw new BuildError(`${path} is not valid JSON: ${(cause as Error).message}`, { cause });
    }
  }
}

async function readMap(path: string): Promise<ImportMap | null> {
  const text = await readFile(path, "utf8").catch(() => null);
  if (text === null) return null;
  const json = parseJsonc(text, path);
  if (typeof json.importMap === "string") {
    const target = resolve(dirname(path), json.importMap);
    const named = await readMap(target);
    if (!named) throw new BuildError(`${path}: importMap "${json.importMap}" not found (${target})`);
    return named;
  }
  const imports = json.imports;
  if (imports === undefined) return null;
  if (typeof imports !== "object" || imports === null || Array.isArray(imports) || !Object.values(imports).every((v) => typeof v === "string")) {
    throw new BuildError(`${path}: "imports" must map specifiers to strings`);
  }
  return { path, imports: imports as Record<string, string> };
}

/** The first import map found in `dirs` (the function's folder, the functions directory, then the project). */
export async function findImportMap(dirs: string[]): Promise<ImportMap | null> {
  for (const dir of [...new Set(dirs)]) {
    for (const file of ["deno.json", "deno.jsonc", "import_map.json"]) {
      const map = await readMap(join(dir, file));
      if (map) return map;
    }
  }
  return null;
}

/** Exact key, else the longest key ending in "/" that prefixes the specifier. */
export function mapSpecifier(map: ImportMap, spec: string): string | null {
  if (Object.hasOwn(map.imports, spec)) return map.imports[spec]!;
  let best: string | null = null;
  for (const key of Object.keys(map.imports)) {
    if (key.endsWith("/") && spec.startsWith(key) && (!best || key.length > best.length)) best = key;
  }
  return best ? map.imports[best]! + spec.slice(best.length) : null;
}

/** Rewrites mapped specifiers, then resolves the target as if it were written in the importing file. */
export function importMap(map: ImportMap): Plugin {
  const base = dirname(map.path);
  return {
    name: "import-map",
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === SKIP || args.pluginData === RAW_RESOLVE || args.namespace === "hangar") return undefined;
        const target = mapSpecifier(map, args.path);
        if (target === null) return undefined;
        const relative = /^\.{1,2}\//.test(target);
        const r = await build.resolve(relative ? resolve(base, target) : target, {
          kind: args.kind, importer: args.importer, resolveDir: relative ? base : args.resolveDir || base, namespace: args.namespace, pluginData: SKIP,
        });
        if (r.errors.length) return { errors: r.errors.map((e) => ({ text: `"${args.path}" (mapped to "${target}" by ${map.path}): ${e.text}` })) };
        return { path: r.path, namespace: r.namespace, external: r.external, sideEffects: r.sideEffects, pluginData: r.pluginData };
      });
    },
  };
}
