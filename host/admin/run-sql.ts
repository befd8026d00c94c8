import type { Db } from "../db/index.ts";
import { UserError } from "../errors.ts";

export interface SqlResult {
  /** One entry per statement that ran, in order. */
  results: { command: string; rowCount: number | null; fields: string[]; rows: Record<string, unknown>[] }[];
}

/**
 * `hangar sql`: run a script (one or more statements) as the database owner,
 * in one transaction, the way `psql -1 -f` does; embedded PGlite included.
 * Operator-only (admin token): functions never reach this.
 */
export async function runSql(db: Db, script: string): Promise<SqlResult> {
  if (!script.trim()) throw new UserError("no SQL to run");
  try {
    return await db.withClient(async (client) => {
      const c = client as unknown as { query(text: string): Promise<unknown> };
      await c.query("begin");
      try {
        const raw = await c.query(script);
        await c.query("commit");
        const list = (Array.isArray(raw) ? raw : [raw]) as { command: string; rowCount: number | null; fields: { name: string }[]; rows: Record<string, unknown>[] }[];
        return { results: list.map((r) => ({ command: r.command, rowCount: r.rowCount, fields: (r.fields ?? []).map((f) => f.name), rows: r.rows ?? [] })) };
      } catch (err) {
        await c.query("rollback").catch(() => {});
        throw err;
      }
    });
  } catch (err) {
    const e = err as Error & { code?: string; position?: string };
    if (e.code && /^[0-9A-Z]{5}$/.test(e.code)) {
      throw new UserError(`${e.message}${e.position ? ` (at character ${e.position})` : ""} [${e.code}]; nothing was changed`, "SQL_FAILED");
    }
    throw err;
  }
}
