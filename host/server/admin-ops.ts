import { assertFunctionRole } from "../bindings/sql/index.ts";
import { cronOps } from "../cron/admin.ts";
import { logOps } from "../logs/admin.ts";
import { registryOps, setActivateHook } from "../registry/admin.ts";
import { secretOps } from "../secrets/admin.ts";
import { eventOps, syncTableTriggers } from "../triggers/index.ts";
import { isValidFunctionName } from "../build/index.ts";
import { UserError } from "../errors.ts";
import { deleteFunction } from "../admin/delete-function.ts";
import { runSql } from "../admin/run-sql.ts";
import type { AdminOp } from "../admin/types.ts";

// Activating a version (deploy or rollback) installs the table triggers its config asks for, in the same transaction.
setActivateHook(async (tx, name, config, opts) => {
  await assertFunctionRole(tx, name, config.role, opts.functionRoles);
  const { missing } = await syncTableTriggers(tx, name, config.events, { missingTable: opts.missingTables, role: config.role });
  return missing.length ? [`watching ${missing.join(", ")} once it exists (the table does not exist yet)`] : [];
});

/** Every admin operation, by name: served at `/_hangar/api/<name>` and run locally by the CLI. */
export const ADMIN_OPS: Record<string, AdminOp> = {
  ...registryOps,
  ...logOps,
  ...secretOps,
  ...cronOps,
  ...eventOps,
  async "functions.delete"(ctx, args) {
    const name = typeof args.name === "string" ? args.name : "";
    if (!isValidFunctionName(name)) throw new UserError(`"${name}" is not a valid function name`);
    const result = await deleteFunction(ctx.db, name);
    await ctx.registry?.refresh(true);
    return result;
  },
  async "sql.run"(ctx, args) {
    if (typeof args.script !== "string") throw new UserError("script is required");
    return runSql(ctx.db, args.script);
  },
};
