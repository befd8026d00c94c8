import { setTimeout as sleep } from "node:timers/promises";
import { callAdmin } from "../admin-client.ts";
import type { HangarConfig } from "../../config/index.ts";
import { UsageError } from "../../errors.ts";
import { formatEntry } from "../../logs/format.ts";
import type { LogQueryResult } from "../../logs/query.ts";
import type { Command } from "../command.ts";

const POLL_MS = 300;

/** `hangar logs [name] [--follow] [--since 10m] [--json]`: invocations with their console lines, oldest first. */
export const logsCommand: Command = {
  usage: "hangar logs [name] [--follow] [--since 10m] [--status S] [--limit N] [--json]",
  summary: "invocations with their console lines (every trigger); --follow streams new ones",
  options: {
    follow: { type: "boolean", short: "f", describe: "keep printing new invocations until Ctrl-C" },
    since: { type: "string", arg: "10m", describe: "only invocations newer than this (s, m, h, d) or an ISO time" },
    status: { type: "string", arg: "S", describe: "only invocations with this status (ok, GUEST_THREW, ...)" },
    limit: { type: "string", arg: "n", describe: "at most n invocations" },
    json: { type: "boolean", describe: "one JSON object per line" },
  },
  async run(flags, [name, ...extra], io, config) {
    if (extra.length) throw new UsageError("logs takes at most one function name");
    const limit = flags.limit === undefined ? undefined : Number(flags.limit);
    if (limit !== undefined && !Number.isInteger(limit)) throw new UsageError(`--limit must be an integer, got "${String(flags.limit)}"`);
    const base = { name, since: flags.since, status: flags.status };
    const print = (r: LogQueryResult) => {
      for (const e of r.invocations) {
        if (flags.json) io.out(JSON.stringify(e));
        else for (const line of formatEntry(e)) io.out(line);
      }
    };
    const source = await logSource(config);
    const stop = new AbortController();
    const onSigint = () => stop.abort();
    try {
      let r = await source.query({ ...base, limit });
      print(r);
      if (!flags.follow) {
        if (!r.invocations.length && !flags.json) io.err(name ? `no invocations of ${name} recorded${flags.since ? ` since ${String(flags.since)}` : ""}` : "no invocations recorded");
        return 0;
      }
      process.once("SIGINT", onSigint);
      while (!stop.signal.aborted) {
        await sleep(POLL_MS, undefined, { signal: stop.signal }).catch(() => {});
        if (stop.signal.aborted) break;
        r = await source.query({ ...base, after: r.cursor });
        print(r);
      }
    } finally {
      process.off("SIGINT", onSigint);
      await source.close();
    }
    return 0;
  },
};

/**
 * Where `logs.query` runs: through callAdmin (a remote instance or a running
 * `hangar dev`), except against a DATABASE_URL, where one small pool is kept
 * open for the whole command instead of one per --follow poll.
 */
async function logSource(config: HangarConfig): Promise<{ query(args: Record<string, unknown>): Promise<LogQueryResult>; close(): Promise<void> }> {
  if (config.remoteUrl || !config.databaseUrl) {
    return { query: async (args) => (await callAdmin(config, "logs.query", args)) as LogQueryResult, close: async () => {} };
  }
  const [{ migrate, openDb }, { parseLogQuery, queryLogs }] = await Promise.all([import("../../db/index.ts"), import("../../logs/query.ts")]);
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, nodeId: config.nodeId, poolSize: 1 });
  try {
    await migrate(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return { query: (args) => queryLogs(db, parseLogQuery(args)), close: () => db.close() };
}
