// Node built-ins as Workers' nodejs_compat offers them, from node-stdlib-browser's polyfills
// (the set webpack and Vite users bundle for browsers); the ones that cannot work fail the deploy.
import { RAW_RESOLVE } from "./plugins.ts";
import type { Plugin } from "esbuild";
import { createRequire } from "node:module";
import { builtinModules } from "node:module";
import { isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
/** Built-in name -> polyfill package directory or file. */
const STDLIB = require("node-stdlib-browser") as Record<string, string>;

/** Built-ins a function may import (with or without `node:`). */
export const OFFERED = [
  "assert", "buffer", "crypto", "events", "path", "path/posix", "process", "punycode", "querystring",
  "stream", "string_decoder", "timers", "timers/promises", "url", "util", "zlib",
] as const;

const WRAPPERS: Record<string, string> = {
  crypto: fileURLToPath(new URL("./node/crypto.js", import.meta.url)),
  process: fileURLToPath(new URL("./node/process.js", import.meta.url)),
};
/** Free `process` and `Buffer` become imports of these, as under nodejs_compat. */
export const NODE_GLOBALS_INJECT = fileURLToPath(new URL("./node/globals.js", import.meta.url));

const BUILTINS = new Set(builtinModules);

/** True for `node:*` and bare Node built-in names (`fs`, `fs/promises`, `child_process`, ...). */
export function isNodeBuiltin(spec: string): boolean {
  return spec.startsWith("node:") || BUILTINS.has(spec) || BUILTINS.has(spec.split("/")[0] ?? "");
}

/** Why a built-in Hangar does not offer cannot work, for the deploy error. */
export function builtinRefusal(name: string): string {
  const base = name.replace(/^node:/, "").split("/")[0]!;
  const why =
    base === "fs" ? "there is no file system in the sandbox (import data files, or keep data in Postgres)"
    : ["child_process", "cluster", "worker_threads"].includes(base) ? "functions cannot start processes or threads"
    : ["net", "tls", "dgram", "dns", "http", "https", "http2"].includes(base) ? "there are no sockets in the sandbox: use fetch()"
    : `it is not one of the Node built-ins Hangar offers (${OFFERED.join(", ")})`;
  return `"${name}" cannot be used in a Hangar function: ${why}`;
}

/** Resolves Node built-ins to polyfills, after the importing package's own `browser` map had its say. */
export function nodeBuiltins(): Plugin {
  return {
    name: "node-builtins",
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === RAW_RESOLVE || !isNodeBuiltin(args.path)) return undefined;
        const name = args.path.replace(/^node:/, "");
        if (!args.path.startsWith("node:")) {
          // A package's "browser": { "fs": false } (or an installed package of that name) wins.
          const own = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: RAW_RESOLVE });
          if (!own.errors.length) {
            if (isAbsolute(own.path)) return { path: own.path, namespace: own.namespace, sideEffects: own.sideEffects };
            return { path: args.path, namespace: "node-disabled" }; // mapped to false: an empty module
          }
        }
        const target = (OFFERED as readonly string[]).includes(name) ? WRAPPERS[name] ?? STDLIB[name] : undefined;
        if (!target) {
          // A package's `try { require("vm") } catch {}` must still bundle: the require throws when it runs.
          // The function's own imports, and static imports anywhere, fail the deploy.
          if (args.kind === "require-call" && /[/\\]node_modules[/\\]/.test(args.importer)) return { path: args.path, namespace: "node-unavailable" };
          return { errors: [{ text: builtinRefusal(args.path) }] };
        }
        const r = await build.resolve(target, { kind: args.kind, resolveDir: args.resolveDir, pluginData: RAW_RESOLVE });
        if (r.errors.length) return { errors: [{ text: `the polyfill for "${args.path}" (${target}) did not resolve: ${r.errors[0]!.text}` }] };
        // Unused (an injected global nobody references) means left out.
        return { path: r.path, namespace: r.namespace, sideEffects: false };
      });
      build.onLoad({ filter: /.*/, namespace: "node-disabled" }, () => ({ contents: "module.exports = {};\n", loader: "js" }));
      build.onLoad({ filter: /.*/, namespace: "node-unavailable" }, (args) => ({
        contents: `throw new Error(${JSON.stringify(builtinRefusal(args.path))});\n`,
        loader: "js",
      }));
      // The crypto wrapper takes crypto-browserify's parts from where that package finds them.
      build.onResolve({ filter: /^hangar-polyfill-dep:/ }, async (args) => {
        const r = await build.resolve(args.path.slice("hangar-polyfill-dep:".length), { kind: args.kind, resolveDir: STDLIB.crypto, pluginData: RAW_RESOLVE });
        return r.errors.length ? { errors: r.errors } : { path: r.path, namespace: r.namespace, sideEffects: false };
      });
      // The wrappers import the polyfills by name; give them the absolute paths.
      build.onResolve({ filter: /^hangar-polyfill:/ }, async (args) => {
        const target = STDLIB[args.path.slice("hangar-polyfill:".length)];
        if (!target) return { errors: [{ text: `no polyfill ${args.path}` }] };
        const r = await build.resolve(target, { kind: args.kind, resolveDir: args.resolveDir, pluginData: RAW_RESOLVE });
        return r.errors.length ? { errors: r.errors } : { path: r.path, namespace: r.namespace, sideEffects: false };
      });
    },
  };
}
