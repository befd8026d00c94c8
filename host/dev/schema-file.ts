import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * A function's own schema: `functions/<name>.sql` beside `<name>.ts`, or
 * `functions/<name>/schema.sql`. `hangar deploy` and `hangar dev` run it
 * (as the database owner, in one transaction) before deploying the function,
 * so the tables its `events` watch exist on a fresh database. It runs on
 * every deploy, so it must be idempotent (`create table if not exists`).
 */
export function schemaPathFor(entry: string): string {
  const file = basename(entry);
  if (/^index\.[cm]?[jt]sx?$/.test(file)) return join(dirname(entry), "schema.sql");
  return join(dirname(entry), file.replace(/\.[cm]?[jt]sx?$/, "") + ".sql");
}

/** The schema script of a function's entry, or null when it ships none. */
export async function readSchema(entry: string): Promise<{ path: string; script: string } | null> {
  const path = schemaPathFor(entry);
  try {
    return { path, script: await readFile(path, "utf8") };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}
