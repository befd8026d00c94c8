// Node module hooks that run this package's TypeScript as it is: each .ts file
// is transformed by esbuild (types stripped, nothing renamed or bundled) with
// an inline source map, so stacks name the .ts line. tsx does the same but
// always wraps every function in a name-keeping helper (esbuild's keepNames),
// which costs each closure a defineProperty call on every request path; a
// per-file transform renames nothing, so there is no name to keep.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { transform } from "esbuild";

const root = new URL("../", import.meta.url).href;
const options = (async () => {
  const tsconfig = JSON.parse(await readFile(new URL("tsconfig.json", root), "utf8"));
  return { loader: "ts", format: "esm", target: `node${process.versions.node}`, sourcemap: "inline", tsconfigRaw: { compilerOptions: tsconfig.compilerOptions } };
})();

/** Hangar's own .ts files (wherever the package is installed), not its dependencies'. */
const own = (url) => url.endsWith(".ts") && url.startsWith(root) && !url.startsWith(`${root}node_modules/`);

export async function load(url, context, nextLoad) {
  if (!own(url)) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const { code } = await transform(await readFile(path, "utf8"), { ...(await options), sourcefile: path });
  return { format: "module", source: code, shortCircuit: true };
}
