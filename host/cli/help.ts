import { COMMON_OPTIONS, type Command } from "./command.ts";

const WIDTH = 80;

/** Wrap `text` to the width, each continuation line indented by `indent`. */
function wrap(text: string, indent: number, first: number): string[] {
  const lines: string[] = [];
  let line = "";
  let room = WIDTH - first;
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
      room = WIDTH - indent;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l, i) => (i === 0 ? l : " ".repeat(indent) + l));
}

function optionRows(options: Command["options"]): string[] {
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.arg ? ` <${o.arg}>` : ""}`;
    return [flag, o.describe] as const;
  });
  const width = Math.min(28, Math.max(...rows.map(([f]) => f.length)));
  return rows.flatMap(([flag, text]) => {
    if (flag.length > width) return [`  ${flag}`, ...wrap(text, width + 4, 0).map((l, i) => (i === 0 ? " ".repeat(width + 4) + l : l))];
    const [first, ...rest] = wrap(text, width + 4, width + 4);
    return [`  ${flag.padEnd(width)}  ${first}`, ...rest];
  });
}

/** `hangar <command> --help`: usage, what it does, every option described, at most 80 columns. */
export function commandHelp(name: string, c: Command): string {
  const own = optionRows(c.options);
  return [
    ...wrap(`usage: ${c.usage}`, 7, 0),
    "",
    ...wrap(c.summary, 0, 0),
    ...(own.length ? ["", "options:", ...own] : []),
    "",
    "common options:",
    ...optionRows(COMMON_OPTIONS),
    "",
    ...wrap(`Exit status: 0 ok, 1 a failure with a one-line reason, 2 bad usage. See also: hangar --help.`, 0, 0),
  ].join("\n").replace(/hangar --help\.$/, name === "help" ? "" : "hangar --help.");
}

/** `hangar --help`: every command on a line. */
export function mainHelp(commands: Record<string, Command>): string {
  const rows = Object.entries(commands).map(([name, c]) => [name, c.summary] as const);
  const width = Math.max(...rows.map(([n]) => n.length));
  return [
    "usage: hangar <command> [options]      (hangar <command> --help for its options)",
    "",
    ...rows.flatMap(([n, s]) => {
      const [first, ...rest] = wrap(s, width + 4, width + 4);
      return [`  ${n.padEnd(width)}  ${first}`, ...rest];
    }),
    "",
    "  --version   print Hangar's version",
    "  completion  print a bash completion script: source <(hangar completion)",
    "",
    ...wrap("Against a remote instance: --url and --token (or HANGAR_URL, HANGAR_ADMIN_TOKEN).", 0, 0),
  ].join("\n");
}
