// The guest prelude (runtime/guest/*.js) bundled once per process with esbuild.
import { buildSync } from "esbuild";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** Script whose completion value is the guest entry object. */
export function preludeSource(): string {
  if (cached) return cached;
  const entry = fileURLToPath(new URL("./guest/index.js", import.meta.url));
  const out = buildSync({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "iife",
    globalName: "__hangar_prelude",
    target: "es2022",
    minifySyntax: true,
    legalComments: "none",
  });
  const code = out.outputFiles[0].text;
  cached = `(function () {\n${code}\nreturn __hangar_prelude.entry;\n})()`;
  return cached;
}
