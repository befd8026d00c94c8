import type { ParseArgsConfig } from "node:util";
import type { Flags } from "../config/index.ts";

/** One CLI command: its flags, its usage line, and what it does. */
export interface Command {
  usage: string;
  summary: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  /** Runs with parsed flags and positionals; resolves to the exit status. */
  run(flags: Flags & Record<string, unknown>, positionals: string[], io: Io): Promise<number>;
}

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

/** Flags every command accepts. */
export const COMMON_OPTIONS = {
  "database-url": { type: "string" },
  "data-dir": { type: "string" },
  url: { type: "string" },
  token: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;
