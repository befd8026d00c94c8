import { parseArgs } from "node:util";
import { resolveConfig, type HangarConfig } from "../config/index.ts";
import { HangarError, UsageError, UserError } from "../errors.ts";
import { HANGAR_VERSION } from "../version.ts";
import { COMMON_OPTIONS, type Command, type Io } from "./command.ts";
import { cronCommand } from "./commands/cron.ts";
import { eventsCommand } from "./commands/events.ts";
import { deleteCommand, deployCommand, invokeCommand, keysCommand, listCommand, rollbackCommand, versionsCommand } from "./commands/functions.ts";
import { logsCommand } from "./commands/logs.ts";
import { migrateCommand } from "./commands/migrate.ts";
import { newCommand } from "./commands/new.ts";
import { secretsCommand } from "./commands/secrets.ts";
import { devCommand, startCommand } from "./commands/serve.ts";
import { sqlCommand } from "./commands/sql.ts";
import { withColour } from "./colour.ts";
import { completionScript } from "./completion.ts";
import { explain } from "./explain.ts";
import { commandHelp, mainHelp } from "./help.ts";

const COMMANDS: Record<string, Command> = {
  dev: devCommand,
  start: startCommand,
  new: newCommand,
  deploy: deployCommand,
  rollback: rollbackCommand,
  delete: deleteCommand,
  versions: versionsCommand,
  list: listCommand,
  invoke: invokeCommand,
  keys: keysCommand,
  logs: logsCommand,
  cron: cronCommand,
  events: eventsCommand,
  secrets: secretsCommand,
  sql: sqlCommand,
  migrate: migrateCommand,
};

function parseError(name: string, err: Error & { code?: string }): string {
  const m = /Unknown option '([^']+)'/.exec(err.message);
  if (m) return `unknown option ${m[1]} for \`hangar ${name}\`; see hangar ${name} --help`;
  const v = /Option '([^']+)' argument missing/.exec(err.message) ?? /Option '(?:-\w, )?([^' ]+)[^']*' argument missing/.exec(err.message);
  if (v) return `option ${v[1]} needs a value; see hangar ${name} --help`;
  const p = /Unexpected argument '([^']+)'/.exec(err.message);
  if (p) return `unexpected argument "${p[1]}" for \`hangar ${name}\`; see hangar ${name} --help`;
  return `${err.message.split("\n")[0]}; see hangar ${name} --help`;
}

/** Run the CLI; resolves to the process exit status (0 ok, 1 user error, 2 usage). */
export async function main(argv: string[], plain: Io): Promise<number> {
  const io = withColour(plain);
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-v" || name === "version") {
    io.out(`hangar ${HANGAR_VERSION}`);
    return 0;
  }
  if (name === "completion") {
    io.out(completionScript(COMMANDS));
    return 0;
  }
  if (!name || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? rest[0] : undefined;
    if (topic && COMMANDS[topic]) return io.out(commandHelp(topic, COMMANDS[topic])), 0;
    io.out(mainHelp(COMMANDS));
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    const near = Object.keys(COMMANDS).find((c) => c.startsWith(name.slice(0, 2)));
    io.err(`hangar: unknown command "${name}"${near ? ` (did you mean "${near}"?)` : ""}; see hangar --help`);
    return 2;
  }
  let parsed;
  try {
    const options = Object.fromEntries(
      Object.entries({ ...COMMON_OPTIONS, ...command.options }).map(([k, { describe: _d, arg: _a, ...spec }]) => [k, spec]),
    );
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (err) {
    io.err(`hangar ${name}: ${parseError(name, err as Error)}`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(commandHelp(name, command));
    return 0;
  }
  let config: HangarConfig | null = null;
  try {
    const flags = parsed.values as Record<string, string | boolean>;
    config = resolveConfig(command.mode ?? "cli", flags);
    return await command.run(flags, parsed.positionals, io, config);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`hangar ${name}: ${err.message}\nusage: ${command.usage}`);
      return 2;
    }
    if (err instanceof UserError) {
      io.err(`hangar ${name}: ${err.message}`);
      return 1;
    }
    const reason = explain(err, config) ?? explain((err as Error)?.cause, config);
    if (reason || err instanceof HangarError) {
      io.err(`hangar ${name}: ${reason ?? (err as Error).message}`);
      return 1;
    }
    io.err(`hangar ${name}: ${(err as Error)?.stack ?? String(err)}`);
    return 1;
  }
}
