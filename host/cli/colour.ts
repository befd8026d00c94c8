import type { Io } from "./command.ts";

const CODES: [RegExp, string][] = [
  [/^(\s*)(✓)/, "32"], // deployed
  [/^(\s*)(✗)/, "31"], // failed
  [/^(\s*)(!|-|=)(?= )/, "33"], // warning, deleted, unchanged
  [/^(hangar [a-z]+:)/, "31"], // a command's failure
];

function paint(line: string): string {
  for (const [re, code] of CODES) {
    // With one group, replace() passes the match's offset (a number) where a second group would be.
    if (re.test(line)) return line.replace(re, (_m, a: string, b: unknown) => (typeof b === "string" ? `${a}\x1b[${code}m${b}\x1b[0m` : `\x1b[${code}m${a}\x1b[0m`));
  }
  return line;
}

/** Colour on a terminal only: off when piped, with NO_COLOR set, or TERM=dumb. */
export function withColour(io: Io, env: Record<string, string | undefined> = process.env): Io {
  const on = (tty: boolean | undefined) => !!tty && !env.NO_COLOR && env.TERM !== "dumb";
  const out = on(process.stdout.isTTY);
  const err = on(process.stderr.isTTY);
  return { out: (l) => io.out(out ? l.split("\n").map(paint).join("\n") : l), err: (l) => io.err(err ? l.split("\n").map(paint).join("\n") : l) };
}
