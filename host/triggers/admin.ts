import type { AdminOp } from "../admin/types.ts";
import { UserError } from "../errors.ts";
import { EVENTS_CHANNEL } from "./dispatcher.ts";
import { EVENT_STATUSES, type EventStatus } from "./queue.ts";

export interface EventSummary {
  id: string;
  function: string;
  table: string;
  op: string;
  status: EventStatus;
  attempts: number;
  runAfter: string;
  lastError: string | null;
  createdAt: string;
  finishedAt: string | null;
}

type SummaryRow = {
  id: string; function_name: string; schema_name: string; table_name: string; op: string; status: EventStatus;
  attempts: number; run_after: Date; last_error: string | null; created_at: Date; finished_at: Date | null;
};

const COLUMNS = "id::text as id, function_name, schema_name, table_name, op, status, attempts, run_after, last_error, created_at, finished_at";

function summary(r: SummaryRow): EventSummary {
  return {
    id: r.id, function: r.function_name, table: `${r.schema_name}.${r.table_name}`, op: r.op, status: r.status,
    attempts: r.attempts, runAfter: r.run_after.toISOString(), lastError: r.last_error,
    createdAt: r.created_at.toISOString(), finishedAt: r.finished_at?.toISOString() ?? null,
  };
}

/** `events.list { status?, function?, limit? }`: newest first. */
const list: AdminOp = async (ctx, args) => {
  const status = optionalString(args.status, "status");
  if (status !== undefined && !(EVENT_STATUSES as readonly string[]).includes(status)) {
    throw new UserError(`status must be one of ${EVENT_STATUSES.join(", ")}, got "${status}"`);
  }
  const fn = optionalString(args.function, "function");
  const limit = args.limit === undefined ? 50 : Number(args.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UserError(`limit must be an integer from 1 to 1000, got ${JSON.stringify(args.limit)}`);
  const { rows } = await ctx.db.query<SummaryRow>(
    `select ${COLUMNS} from hangar.events
      where ($1::text is null or status = $1) and ($2::text is null or function_name = $2)
      order by id desc limit $3`,
    [status ?? null, fn ?? null, limit],
  );
  return { events: rows.map(summary) };
};

/** `events.replay { id }`: a dead or done event goes back to pending with its attempts reset. */
const replay: AdminOp = async (ctx, args) => {
  const id = typeof args.id === "number" ? String(args.id) : args.id;
  if (typeof id !== "string" || !/^[1-9][0-9]{0,18}$/.test(id)) throw new UserError(`id must be an event id (a positive integer), got ${JSON.stringify(args.id)}`);
  return ctx.db.transaction(async (tx) => {
    const { rows } = await tx.query<SummaryRow>(
      `update hangar.events
          set status = 'pending', attempts = 0, run_after = now(), lease_until = null, locked_by = null,
              last_error = null, finished_at = null
        where id = $1::int8 and status in ('dead', 'done')
        returning ${COLUMNS}`,
      [id],
    );
    if (rows[0]) {
      await tx.query("select pg_notify($1, $2)", [EVENTS_CHANNEL, rows[0].function_name]);
      return { event: summary(rows[0]) };
    }
    const found = await tx.query<{ status: string }>("select status from hangar.events where id = $1::int8", [id]);
    if (!found.rows[0]) throw new UserError(`event ${id} not found`, "NOT_FOUND", 404);
    throw new UserError(`event ${id} is ${found.rows[0].status}; only dead or done events can be replayed`, "CONFLICT", 409);
  });
};

function optionalString(v: unknown, name: string): string | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw new UserError(`${name} must be a string`);
  return v;
}

/** Admin operations for table events, registered by the server and the local CLI. */
export const eventOps: Record<string, AdminOp> = {
  "events.list": list,
  "events.replay": replay,
};
