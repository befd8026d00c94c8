import { callAdmin } from "../admin-client.ts";
import type { CronListItem, CronRun } from "../../cron/admin.ts";
import { UsageError } from "../../errors.ts";
import type { Command, Io } from "../command.ts";
import { printTable } from "../table.ts";

const when = (iso: string | null) => (iso ? iso.replace("T", " ").replace(/\.000Z$|Z$/, "Z") : "-");

/** `hangar cron list | runs <name>`: scheduled functions, and one function's run ledger. */
export const cronCommand: Command = {
  usage: "hangar cron list | runs <name> [--limit N] [--status S] [--json]",
  summary: "scheduled functions with their next occurrence; the run ledger of one",
  options: {
    json: { type: "boolean", describe: "print JSON" },
    limit: { type: "string", arg: "n", describe: "runs: at most n runs (newest first)" },
    status: { type: "string", arg: "s", describe: "runs: only runs with this status (succeeded, failed, ...)" },
  },
  async run(flags, [sub, ...rest], io, config) {
    if (sub === "list") {
      if (rest.length) throw new UsageError("cron list takes no arguments");
      const r = (await callAdmin(config, "cron.list", {})) as { now: string; schedules: CronListItem[] };
      if (flags.json) return io.out(JSON.stringify(r)), 0;
      return printList(io, r.schedules), 0;
    }
    if (sub === "runs") {
      const [name, ...extra] = rest;
      if (!name || extra.length) throw new UsageError("cron runs takes exactly one function name");
      const limit = flags.limit === undefined ? undefined : Number(flags.limit);
      if (limit !== undefined && !Number.isInteger(limit)) throw new UsageError(`--limit must be an integer, got "${String(flags.limit)}"`);
      const r = (await callAdmin(config, "cron.runs", { name, limit, status: flags.status })) as { name: string; runs: CronRun[] };
      if (flags.json) return io.out(JSON.stringify(r)), 0;
      return printRuns(io, r.name, r.runs), 0;
    }
    throw new UsageError(sub ? `unknown cron subcommand "${sub}"` : "cron needs a subcommand: list or runs <name>");
  },
};

function printList(io: Io, items: CronListItem[]): void {
  if (!items.length) return io.out("no scheduled functions");
  printTable(
    io,
    ["NAME", "SCHEDULE", "ZONE", "OVERLAP", "CATCH-UP", "NEXT", "LAST RUN"],
    items.map((i) => [
      i.name,
      i.schedule,
      i.timezone,
      i.overlap ?? "-",
      i.catchUp ?? "-",
      when(i.next),
      i.lastRun ? `${when(i.lastRun.scheduledAt)} ${i.lastRun.status}` : "never",
    ]),
  );
}

function printRuns(io: Io, name: string, runs: CronRun[]): void {
  if (!runs.length) return io.out(`${name}: no runs recorded yet`);
  printTable(
    io,
    ["SCHEDULED", "STATUS", "NODE", "VERSION", "DURATION", "DETAIL"],
    runs.map((r) => [
      when(r.scheduledAt) + (r.catchUp ? " (late)" : ""),
      r.status,
      r.node,
      r.version === null ? "-" : String(r.version),
      r.durationMs === null ? "-" : `${r.durationMs} ms`,
      (r.error ?? r.reason ?? "").replace(/\s+/g, " ").slice(0, 120),
    ]),
  );
}
