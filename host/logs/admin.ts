import type { AdminOp } from "../admin/types.ts";
import { parseLogQuery, queryLogs } from "./query.ts";

/** `logs.query`: { name?, since?, after?, limit?, status? } -> { invocations (oldest first, with console lines), cursor }. */
const query: AdminOp = async ({ db }, args) => queryLogs(db, parseLogQuery(args));

/** The invocation-log admin operations, to merge into ADMIN_OPS. */
export const logOps: Record<string, AdminOp> = { "logs.query": query };
