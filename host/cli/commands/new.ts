import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { isValidFunctionName } from "../../build/discover.ts";
import { UsageError, UserError } from "../../errors.ts";
import type { Command } from "../command.ts";
import { TEMPLATES } from "../templates.ts";

export const newCommand: Command = {
  usage: "hangar new <name> [--template http|cron|event|search] [--dir functions]",
  summary: "create functions/<name>.ts from a template (hangar dev picks it up)",
  options: {
    template: { type: "string", short: "t", arg: "kind", describe: `what it starts as: ${Object.keys(TEMPLATES).join(", ")} (default http)` },
    dir: { type: "string", arg: "dir", describe: "the functions folder (default functions)" },
  },
  async run(flags, [name, ...extra], io, config) {
    if (!name || extra.length) throw new UsageError("new takes exactly one function name");
    if (!isValidFunctionName(name)) {
      throw new UserError(`"${name}" is not a valid function name: use lowercase letters, digits and dashes (e.g. "${name.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/^-+/, "")}")`);
    }
    const kind = typeof flags.template === "string" ? flags.template : "http";
    const template = TEMPLATES[kind];
    if (!template) throw new UsageError(`--template must be one of ${Object.keys(TEMPLATES).join(", ")}, got "${kind}"`);
    const file = join(config.functionsDir, `${name}.ts`);
    const rel = relative(process.cwd(), file) || file;
    if (existsSync(file) || existsSync(join(config.functionsDir, name))) throw new UserError(`${rel} already exists`);
    await mkdir(config.functionsDir, { recursive: true });
    const table = name.replace(/-/g, "_");
    await writeFile(file, template.replaceAll("__NAME__", name).replaceAll("__TABLE__", table), { flag: "wx" });
    io.out(`created ${rel} (${kind})`);
    if (kind === "http") io.out(`  try it: hangar dev, then curl http://localhost:8787/functions/v1/${name}`);
    if (kind === "event") io.out(`  create its table first: hangar sql "create table ${table} (id bigint generated always as identity primary key, body text)"`);
    return 0;
  },
};
