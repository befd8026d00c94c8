import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { HANGAR_BIN } from "../helpers/cli.ts";

/**
 * Process tests of cron need pieces other engineers own: the scheduler started
 * by `hangar start` (host/server) and `hangar cron` in the CLI. Returns why a
 * test must wait for them, or false when they are there.
 */
export function cronWiringMissing(): string | false {
  const server = readFileSync(new URL("../../host/server/index.ts", import.meta.url), "utf8");
  const missing: string[] = [];
  if (!server.includes("startScheduler")) missing.push("host/server does not start the cron scheduler (startScheduler)");
  const help = spawnSync(process.execPath, [HANGAR_BIN, "--help"], { encoding: "utf8" }).stdout;
  if (!/hangar cron/.test(help)) missing.push("the CLI has no `hangar cron` command (cronCommand)");
  return missing.length ? `awaits wiring: ${missing.join("; ")}` : false;
}
