import type { Db } from "../db/index.ts";
import type { ActiveFunction } from "../registry/index.ts";
import { syncTableTriggers } from "../triggers/index.ts";

/**
 * dev: a function may watch a table that does not exist yet (its deploy warned).
 * Check every `everyMs`; once the table appears, install the trigger and say so.
 * Returns a stop function, safe twice.
 */
export function watchPendingTables(db: Db, functions: () => ActiveFunction[], say: (line: string) => void, everyMs = 1_000): () => void {
  const pending = new Map<string, Set<string>>(); // version id -> missing "schema.table"
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const tick = async () => {
    for (const fn of functions()) {
      if (!fn.config.events.length) continue;
      const names = fn.config.events.map((e) => `${e.schema}.${e.table}`);
      const { rows } = await db.query<{ name: string; exists: boolean }>(
        "select n as name, to_regclass(format('%I.%I', split_part(n, '.', 1), split_part(n, '.', 2))) is not null as exists from unnest($1::text[]) n",
        [names],
      );
      const missing = new Set(rows.filter((r) => !r.exists).map((r) => r.name));
      const before = pending.get(fn.versionId);
      pending.set(fn.versionId, missing);
      const appeared = before ? [...before].filter((n) => !missing.has(n)) : [];
      if (!appeared.length) continue;
      await db.transaction((tx) => syncTableTriggers(tx, fn.name, fn.config.events, { missingTable: "skip" }));
      say(`✓ ${fn.name}: now watching ${appeared.join(", ")}`);
    }
  };
  const loop = () => {
    timer = setTimeout(() => {
      tick()
        .catch((err) => say(`! watching tables failed: ${(err as Error).message}`))
        .finally(() => {
          if (!stopped) loop();
        });
    }, everyMs);
    timer.unref();
  };
  loop();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
