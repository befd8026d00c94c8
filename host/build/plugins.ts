import type { Plugin } from "esbuild";

/** Source of the virtual `hangar` module: the host functions the runtime installs on `globalThis.__hangar`. */
export const HANGAR_MODULE_SOURCE =
  "export const sql = globalThis.__hangar.sql;\nexport const vector = globalThis.__hangar.vector;\n";

/** Resolves `import ... from "hangar"` to the virtual module. */
export function hangarModule(): Plugin {
  return {
    name: "hangar-module",
    setup(build) {
      build.onResolve({ filter: /^hangar$/ }, () => ({ path: "hangar", namespace: "hangar" }));
      build.onLoad({ filter: /.*/, namespace: "hangar" }, () => ({ contents: HANGAR_MODULE_SOURCE, loader: "js" }));
    },
  };
}


/** pluginData of a resolve that wants esbuild's own resolution: Hangar's resolvers (import map, npm:, built-ins) stay out. */
export const RAW_RESOLVE = Symbol("hangar-raw-resolve");
