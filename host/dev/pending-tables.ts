import type { Db } from "../db/index.ts";
import { lockKey } from "../db/lock-key.ts";
import type { ActiveFunction } from "../registry/index.ts";
import { syncTableTriggers, triggerNames } from "../triggers/index.ts";

/**
 * dev: a function may watch a table that does not exist yet (its deploy warned).
 * Every `everyMs`, find watched tables that exist but carry no trigger of the
 * function; install it and say so. Returns a stop function, safe twice.
 */
export function watchPendingTables(db: Db, functions: () => ActiveFunction[], say: (line: string) => void, everyMs = 500): () => void {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const tick = async () => {
    for (const fn of functions()) {
      if (!fn.config.events.length) continue;
      const names = fn.config.events.map((e) => `${e.schema}.${e.table}`);
      const { rows } = await db.query<{ name: string }>(
        `select n as name from unnest($1::text[]) n
         where to_regclass(format('%I.%I', split_part(n, '.', 1), split_part(n, '.', 2))) is not null
           and not exists (select 1 from pg_trigger t
             where t.tgrelid = to_regclass(format('%I.%I', split_part(n, '.', 1), split_part(n, '.', 2))) and t.tgname = any($2::text[]))`,
        [names, Object.values(triggerNames(fn.name))],
      );
      if (!rows.length) continue;
      // Under the function's deploy lock, and only while this version is still the active one: a delete (or a
      // deploy) that committed since `functions()` was read must not get this version's triggers back.
      const synced = await db.transaction(async (tx) => {
        await tx.query("select pg_advisory_xact_lock($1::int8)", [lockKey(`hangar:deploy:${fn.name}`)]);
        const active = await tx.query("select 1 from hangar.functions where name = $1 and active_version::text = $2", [fn.name, fn.versionId]);
        if (!active.rows.length) return false;
        await syncTableTriggers(tx, fn.name, fn.config.events, { missingTable: "skip", role: fn.config.role });
        return true;
      });
      if (synced) say(`✓ ${fn.name}: now watching ${rows.map((r) => r.name).join(", ")}`);
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
