// The guest prelude (runtime/guest/*.js) bundled once per process with esbuild.
// Large libraries the guest rarely needs (streams, URLPattern) are embedded as
// source text and evaluated on first use: parsing them costs every cold start
// otherwise (they are most of the prelude's size).
import { buildSync } from "esbuild";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** Libraries the guest sees as the constant `__HANGAR_LIB_<NAME>__`: their source text, an expression. */
const LIBS: Record<string, string> = {
  STREAMS: "web-streams-polyfill/dist/ponyfill.js",
  URLPATTERN: "urlpattern-polyfill/urlpattern",
};

function libSource(spec: string, resolveDir: string): string {
  const out = buildSync({
    stdin: { contents: `module.exports = require(${JSON.stringify(spec)});`, resolveDir, loader: "js" },
    bundle: true,
    write: false,
    format: "iife",
    globalName: "__hangar_lib",
    target: "es2022",
    minify: true,
    legalComments: "none",
  });
  return `(function () {\n${out.outputFiles[0].text}\nreturn __hangar_lib;\n})()`;
}

/** Script whose completion value is the guest entry object. */
export function preludeSource(): string {
  if (cached) return cached;
  const entry = fileURLToPath(new URL("./guest/index.js", import.meta.url));
  const resolveDir = fileURLToPath(new URL("./guest/", import.meta.url));
  const out = buildSync({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "iife",
    globalName: "__hangar_prelude",
    target: "es2022",
    minifySyntax: true,
    // comments and indentation would ship in every instance (QuickJS keeps function source)
    minifyWhitespace: true,
    legalComments: "none",
    define: Object.fromEntries(Object.entries(LIBS).map(([name, spec]) => [`__HANGAR_LIB_${name}__`, JSON.stringify(libSource(spec, resolveDir))])),
  });
  const code = out.outputFiles[0].text;
  cached = `(function () {\n${code}\nreturn __hangar_prelude.entry;\n})()`;
  return cached;
}
