import { relative } from "node:path";
import { deleteFunction } from "../admin/delete-function.ts";
import { bundleFunction, scanFunctions } from "../build/index.ts";
import { servesHttp } from "../build/config.ts";
import type { Db } from "../db/index.ts";
import type { DeployResult } from "../registry/index.ts";
import { runSql } from "../admin/run-sql.ts";
import { formatDeploy } from "./deploy-dir.ts";
import { readSchema } from "./schema-file.ts";

export interface DevLoopDeps {
  db: Db;
  dir: string;
  /** Base URL of the running server, for the URLs printed for new functions. */
  url: string;
  deploy(args: { name: string; code: string; map: string; hash: string }): Promise<DeployResult>;
  out(line: string): void;
  err(line: string): void;
}

/**
 * The state of `hangar dev`'s folder: what it deployed from which file.
 * A pass bundles every function; only those whose bundle changed since this
 * session last deployed them are deployed (so a `hangar rollback` holds until
 * that function's own file changes); a function whose file is gone is
 * deleted with its triggers and schedule; a bad file name is reported while
 * the rest still deploy.
 */
export function createDevLoop(deps: DevLoopDeps) {
  const deployed = new Map<string, string>(); // name -> bundle hash deployed this session
  const present = new Set<string>(); // names found in the folder at the last pass
  const schemas = new Map<string, string>(); // name -> schema script last run
  let lastProblems = "";

  const remove = async (name: string, why: string) => {
    try {
      await deleteFunction(deps.db, name);
      deps.out(`- ${name}: deleted (${why})`);
    } catch (err) {
      deps.err(`✗ ${name}: deleting failed: ${(err as Error).message}`);
    }
  };

  /** One pass over the folder; `initial` also removes functions dev deployed earlier whose file is gone. */
  async function pass(initial: boolean): Promise<void> {
    const { functions, problems } = await scanFunctions(deps.dir);
    const text = problems.join("\n");
    if (problems.length && (initial || text !== lastProblems)) for (const p of problems) deps.err(`✗ ${p}`);
    lastProblems = text;
    const names = new Set(functions.map((f) => f.name));
    for (const fn of functions) {
      let bundle;
      try {
        bundle = await bundleFunction(fn.entry, { functionsDir: deps.dir });
      } catch (err) {
        deps.err(`✗ ${fn.name}: ${(err as Error).message}`);
        continue;
      }
      try {
        const schema = await readSchema(fn.entry);
        if (schema && schemas.get(fn.name) !== schema.script) {
          await runSql(deps.db, schema.script).catch((err: Error) => {
            throw new Error(`${relative(process.cwd(), schema.path)}: ${err.message}`);
          });
          schemas.set(fn.name, schema.script);
          deps.out(`  ran ${relative(process.cwd(), schema.path)}`);
        }
      } catch (err) {
        deps.err(`✗ ${fn.name}: ${(err as Error).message}`);
        continue;
      }
      if (deployed.get(fn.name) === bundle.hash) continue;
      try {
        const result = await deps.deploy({ name: fn.name, code: bundle.code, map: bundle.map, hash: bundle.hash });
        deployed.set(fn.name, bundle.hash);
        if (initial || !result.unchanged) deps.out(formatDeploy({ name: fn.name, result }));
        if (!present.has(fn.name) && servesHttp(result.handlers)) deps.out(`    ${deps.url}/functions/v1/${fn.name}`);
        present.add(fn.name);
      } catch (err) {
        deps.err(`✗ ${fn.name}: ${(err as Error).message}`);
      }
    }
    for (const name of [...present]) {
      if (names.has(name)) continue;
      present.delete(name);
      deployed.delete(name);
      await remove(name, `${relative(process.cwd(), deps.dir) || "."} has no ${name} any more`);
    }
    if (initial) {
      // Deployed by an earlier `hangar dev` from a file deleted while it was not running.
      const { rows } = await deps.db.query<{ name: string }>(
        `select f.name from hangar.functions f join hangar.versions v on v.id = f.active_version
         where v.deployed_by = 'dev' and not (f.name = any($1::text[]))`,
        [[...names]],
      );
      for (const r of rows) await remove(r.name, "its file is gone");
    }
  }
  return { pass };
}
