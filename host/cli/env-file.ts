import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseEnv } from "node:util";
import { UserError } from "../errors.ts";

/**
 * dev's local secrets and vars: `--env-file <file>` (must exist), else `.env`
 * in the current folder if there is one. Returns null when there is none.
 */
export async function loadEnvFile(flag: string | null): Promise<{ path: string; values: Record<string, string> } | null> {
  const path = resolve(flag ?? ".env");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if (!flag && (err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new UserError(`cannot read --env-file ${flag}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const values = parseEnv(text) as Record<string, string>;
  return { path: flag ?? ".env", values };
}
