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

/**
 * esbuild would leave URL imports external, which the sandbox cannot load (there is no module
 * loader, and fetching code at run time would bypass the deploy). Refuse them at build time.
 */
export function noRemoteImports(): Plugin {
  return {
    name: "no-remote-imports",
    setup(build) {
      build.onResolve({ filter: /^(https?:|jsr:|\/\/)/ }, (args) => ({ errors: [{ text: `Could not resolve "${args.path}"` }] }));
    },
  };
}

const SKIP = Symbol("npm-specifier");

/**
 * Deno / Supabase style `npm:pkg@1.2.3/sub` imports resolve to the installed `pkg/sub`,
 * so functions written for Supabase Edge bundle unchanged. The version is not checked.
 */
export function npmSpecifiers(): Plugin {
  return {
    name: "npm-specifiers",
    setup(build) {
      build.onResolve({ filter: /^npm:/ }, async (args) => {
        if (args.pluginData === SKIP) return undefined;
        const bare = stripVersion(args.path.slice(4));
        const r = await build.resolve(bare, {
          kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: SKIP,
        });
        if (r.errors.length) return { errors: [{ text: `Could not resolve "${args.path}"` }] };
        return { path: r.path, namespace: r.namespace, external: r.external, sideEffects: r.sideEffects };
      });
    },
  };
}

function stripVersion(spec: string): string {
  const scoped = spec.startsWith("@");
  const parts = spec.split("/");
  const nameIdx = scoped ? 1 : 0;
  const name = parts[nameIdx] ?? "";
  const at = name.indexOf("@");
  if (at > 0) parts[nameIdx] = name.slice(0, at);
  return parts.join("/");
}
