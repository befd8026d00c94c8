import { callAdmin } from "../admin-client.ts";
import { UsageError } from "../../errors.ts";
import type { EventSummary } from "../../triggers/admin.ts";
import type { Command, Io } from "../command.ts";
import { printTable } from "../table.ts";

const when = (iso: string | null) => (iso ? iso.replace("T", " ").replace(/\.\d{3}Z$/, "Z") : "-");
const oneLine = (s: string | null, max = 60) => {
  if (!s) return "";
  const flat = s.replace(/\s+/g, " ");
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
};

/** `hangar events list [--status dead] [--function name] | replay <id>`: the durable table-event queue. */
export const eventsCommand: Command = {
  usage: "hangar events list [--status S] [--function name] [--limit N] [--json] | replay <id>",
  summary: "table events (pending, running, done, dead), newest first; replay a dead or done one",
  options: {
    status: { type: "string", arg: "s", describe: "list: only events with this status (pending, running, done, dead)" },
    function: { type: "string", arg: "name", describe: "list: only this function's events" },
    limit: { type: "string", arg: "n", describe: "list: at most n events" },
    json: { type: "boolean", describe: "print JSON" },
  },
  async run(flags, [sub, ...rest], io, config) {
    if (sub === "list") {
      if (rest.length) throw new UsageError("events list takes no arguments (filter with --status and --function)");
      const limit = flags.limit === undefined ? undefined : Number(flags.limit);
      if (limit !== undefined && !Number.isInteger(limit)) throw new UsageError(`--limit must be an integer, got "${String(flags.limit)}"`);
      const r = (await callAdmin(config, "events.list", { status: flags.status, function: flags.function, limit })) as { events: EventSummary[] };
      if (flags.json) return io.out(JSON.stringify(r)), 0;
      return printEvents(io, r.events), 0;
    }
    if (sub === "replay") {
      const [id, ...extra] = rest;
      if (!id || extra.length) throw new UsageError("events replay takes exactly one event id");
      const r = (await callAdmin(config, "events.replay", { id })) as { event: EventSummary };
      if (flags.json) return io.out(JSON.stringify(r)), 0;
      io.out(`event ${r.event.id} (${r.event.function}, ${r.event.op} on ${r.event.table}) is pending again`);
      return 0;
    }
    throw new UsageError(sub ? `unknown events subcommand "${sub}"` : "events needs a subcommand: list or replay <id>");
  },
};

function printEvents(io: Io, events: EventSummary[]): void {
  if (!events.length) return io.out("no events");
  printTable(
    io,
    ["ID", "FUNCTION", "TABLE", "OP", "STATUS", "ATTEMPTS", "CREATED", "FINISHED / NEXT TRY", "LAST ERROR"],
    events.map((e) => [
      e.id,
      e.function,
      e.table,
      e.op,
      e.status,
      String(e.attempts),
      when(e.createdAt),
      e.status === "pending" ? `next ${when(e.runAfter)}` : when(e.finishedAt),
      oneLine(e.lastError),
    ]),
  );
}
