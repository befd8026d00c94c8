import { relative } from "node:path";
import { bundleFunction, scanFunctions } from "../build/index.ts";
import type { DeployResult } from "../registry/index.ts";
import { readSchema } from "./schema-file.ts";

export type DeployOne = (args: { name: string; code: string; map: string; hash: string }) => Promise<DeployResult>;
/** Runs a function's schema script before its deploy. */
export type ApplySchema = (name: string, script: string) => Promise<void>;

export interface DirDeployReport {
  name: string;
  result?: DeployResult;
  error?: string;
  /** The schema file that ran first, if the function ships one. */
  schema?: string;
}

/** Bundle and deploy the functions of a directory (all, or the named ones); one failure does not stop the rest. */
export async function deployDir(
  dir: string,
  names: string[],
  deploy: DeployOne,
  applySchema?: ApplySchema,
  onProgress?: (done: number, total: number, name: string) => void,
  opts: { offline?: boolean } = {},
): Promise<DirDeployReport[]> {
  const { functions: found, problems } = await scanFunctions(dir);
  const wanted = names.length ? found.filter((f) => names.includes(f.name)) : found;
  const missing = names.filter((n) => !found.some((f) => f.name === n));
  const where = relative(process.cwd(), dir) || ".";
  const reports: DirDeployReport[] = [
    // A bad file name is reported; the good functions still deploy.
    ...(names.length ? [] : problems.map((p) => ({ name: p.split(":")[0], error: p.slice(p.indexOf(":") + 2) }))),
    ...missing.map((name) => ({ name, error: `no function "${name}" in ${where}` })),
  ];
  let done = 0;
  for (const fn of wanted) {
    onProgress?.(done++, wanted.length, fn.name);
    let schema: string | undefined;
    try {
      const bundle = await bundleFunction(fn.entry, { functionsDir: dir, offline: opts.offline });
      const file = applySchema ? await readSchema(fn.entry) : null;
      if (file) {
        schema = relative(process.cwd(), file.path) || file.path;
        await applySchema!(fn.name, file.script).catch((err: Error) => {
          throw new Error(`${schema}: ${err.message}`);
        });
      }
      const result = await deploy({ name: fn.name, code: bundle.code, map: bundle.map, hash: bundle.hash });
      reports.push({ name: fn.name, result, schema });
    } catch (err) {
      reports.push({ name: fn.name, error: (err as Error).message, schema });
    }
  }
  return reports;
}

/** One line per function: what happened. */
export function formatDeploy(r: DirDeployReport): string {
  if (r.error) return `✗ ${r.name}: ${r.error}`;
  const res = r.result!;
  const line = res.unchanged
    ? `= ${r.name}: unchanged (version ${res.version}, ${res.hash.slice(0, 12)})`
    : `✓ ${r.name}: deployed version ${res.version} (${res.hash.slice(0, 12)})`;
  return [line, ...(r.schema ? [`  ran ${r.schema}`] : []), ...(res.warnings ?? []).map((w) => `  ! ${w}`)].join("\n");
}
