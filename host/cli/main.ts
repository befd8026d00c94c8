import { parseArgs } from "node:util";
import { HangarError, UsageError, UserError } from "../errors.ts";
import { COMMON_OPTIONS, type Command, type Io } from "./command.ts";
import { eventsCommand } from "./commands/events.ts";
import { logsCommand } from "./commands/logs.ts";
import { migrateCommand } from "./commands/migrate.ts";
import { secretsCommand } from "./commands/secrets.ts";
import { cronCommand } from "./commands/cron.ts";
import { deployCommand, invokeCommand, keysCommand, listCommand, rollbackCommand } from "./commands/functions.ts";
import { devCommand, startCommand } from "./commands/serve.ts";

const COMMANDS: Record<string, Command> = {
  dev: devCommand,
  start: startCommand,
  deploy: deployCommand,
  rollback: rollbackCommand,
  list: listCommand,
  invoke: invokeCommand,
  keys: keysCommand,
  logs: logsCommand,
  cron: cronCommand,
  events: eventsCommand,
  secrets: secretsCommand,
  migrate: migrateCommand,
};

function help(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length));
  return [
    "usage: hangar <command> [options]",
    "",
    ...Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    "",
    "Against a remote instance: --url and --token (or HANGAR_URL, HANGAR_ADMIN_TOKEN).",
  ].join("\n");
}

/** Run the CLI; resolves to the process exit status (0 ok, 1 user error, 2 usage). */
export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.out(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`hangar: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...COMMON_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
  } catch (err) {
    io.err(`hangar ${name}: ${(err as Error).message}\nusage: ${command.usage}`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(`usage: ${command.usage}\n${command.summary}`);
    return 0;
  }
  try {
    return await command.run(parsed.values as Record<string, string | boolean>, parsed.positionals, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`hangar ${name}: ${err.message}\nusage: ${command.usage}`);
      return 2;
    }
    if (err instanceof UserError || err instanceof HangarError) {
      io.err(`hangar ${name}: ${err.message}`);
      return 1;
    }
    io.err(`hangar ${name}: ${(err as Error)?.stack ?? String(err)}`);
    return 1;
  }
}

