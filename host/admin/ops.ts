import { cronOps } from "../cron/admin.ts";
import { logOps } from "../logs/admin.ts";
import { registryOps } from "../registry/admin.ts";
import { secretOps } from "../secrets/admin.ts";
import type { AdminOp } from "./types.ts";

/** Every admin operation, by name: served at `/_hangar/api/<name>` and run locally by the CLI. */
export const ADMIN_OPS: Record<string, AdminOp> = {
  ...registryOps,
  ...logOps,
  ...cronOps,
  ...secretOps,
};
