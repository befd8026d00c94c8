import { relative } from "node:path";
import { bundleFunction, discoverFunctions } from "../build/index.ts";
import type { DeployResult } from "../registry/index.ts";

export type DeployOne = (args: { name: string; code: string; map: string; hash: string }) => Promise<DeployResult>;

export interface DirDeployReport {
  name: string;
  result?: DeployResult;
  error?: string;
}

/** Bundle and deploy the functions of a directory (all, or the named ones); one failure does not stop the rest. */
export async function deployDir(dir: string, names: string[], deploy: DeployOne, opts: { offline?: boolean } = {}): Promise<DirDeployReport[]> {
  const found = await discoverFunctions(dir);
  const wanted = names.length ? found.filter((f) => names.includes(f.name)) : found;
  const missing = names.filter((n) => !found.some((f) => f.name === n));
  const reports: DirDeployReport[] = missing.map((name) => ({ name, error: `no function "${name}" in ${relative(process.cwd(), dir) || "."}` }));
  for (const fn of wanted) {
    try {
      const bundle = await bundleFunction(fn.entry, { functionsDir: dir, offline: opts.offline });
      const result = await deploy({ name: fn.name, code: bundle.code, map: bundle.map, hash: bundle.hash });
      reports.push({ name: fn.name, result });
    } catch (err) {
      reports.push({ name: fn.name, error: (err as Error).message });
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
  return [line, ...(res.warnings ?? []).map((w) => `  ! ${w}`)].join("\n");
}
