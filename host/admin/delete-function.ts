import type { Db } from "../db/index.ts";
import { lockKey } from "../db/lock-key.ts";
import { UserError } from "../errors.ts";
import { syncTableTriggers } from "../triggers/index.ts";

export interface DeleteResult {
  name: string;
  versions: number;
  triggers: number;
}

/**
 * Remove a function everywhere, in one transaction: its table triggers, its
 * undelivered events, its cron schedule state, its NOTIFY leases, and the
 * function with its versions, deployments and keys (cascade). Secrets scoped
 * to it stay, so re-creating the function finds them. Every instance drops it
 * on the registry switch (HTTP 404, no more cron ticks or event deliveries).
 */
export async function deleteFunction(db: Db, name: string): Promise<DeleteResult> {
  return db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock($1::int8)", [lockKey(`hangar:deploy:${name}`)]);
    const fn = await tx.query<{ versions: number }>(
      "select (select count(*)::int from hangar.versions v where v.function_name = f.name) as versions from hangar.functions f where f.name = $1 for update",
      [name],
    );
    if (!fn.rows[0]) throw new UserError(`function "${name}" is not deployed`, "NOT_FOUND", 404);
    const tracked = await tx.query("select 1 from hangar.event_triggers where function_name = $1", [name]);
    await syncTableTriggers(tx, name, [], { missingTable: "skip" });
    await tx.query("delete from hangar.events where function_name = $1 and status in ('pending', 'running')", [name]);
    await tx.query("delete from hangar.cron_state where function_name = $1", [name]);
    await tx.query("delete from hangar.notify_leases where function_name = $1", [name]);
    await tx.query("update hangar.functions set active_version = null where name = $1", [name]);
    await tx.query("delete from hangar.functions where name = $1", [name]);
    await tx.query("update hangar.registry_state set generation = generation + 1");
    await tx.query("select pg_notify('hangar_registry', $1)", [name]);
    return { name, versions: fn.rows[0].versions, triggers: tracked.rowCount ?? 0 };
  });
}
