import type { ParseArgsConfig } from "node:util";
import type { Flags, HangarConfig } from "../config/index.ts";

type OptionSpec = NonNullable<ParseArgsConfig["options"]>[string] & {
  /** One line for `--help`. */
  describe: string;
  /** Placeholder shown after the flag in help (`--port <n>`). */
  arg?: string;
};

/** One CLI command: its flags, its usage line, and what it does. */
export interface Command {
  usage: string;
  summary: string;
  /** How configuration is resolved: `start` requires production settings; default "cli". */
  mode?: "dev" | "start" | "cli";
  options: Record<string, OptionSpec>;
  /** Runs with parsed flags, positionals and the configuration resolved once; resolves to the exit status. */
  run(flags: Flags & Record<string, unknown>, positionals: string[], io: Io, config: HangarConfig): Promise<number>;
}

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

/** Flags every command accepts. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  "database-url": { type: "string", arg: "url", describe: "Postgres to use (default $DATABASE_URL, else the embedded one)" },
  "data-dir": { type: "string", arg: "dir", describe: "where the embedded database lives (default .hangar)" },
  url: { type: "string", arg: "url", describe: "a remote Hangar instance (default $HANGAR_URL)" },
  token: { type: "string", arg: "token", describe: "its admin token (default $HANGAR_ADMIN_TOKEN)" },
  help: { type: "boolean", short: "h", describe: "show this help" },
};
