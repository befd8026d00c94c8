import { readFile } from "node:fs/promises";
import type { SqlResult } from "../../admin/run-sql.ts";
import { UsageError, UserError } from "../../errors.ts";
import { callAdmin } from "../admin-client.ts";
import type { Command } from "../command.ts";
import { printTable } from "../table.ts";

const cell = (v: unknown): string => (v === null || v === undefined ? "" : v instanceof Date ? v.toISOString() : typeof v === "object" ? JSON.stringify(v) : String(v));

export const sqlCommand: Command = {
  usage: 'hangar sql [-f file.sql | "statement"]',
  summary: "run SQL against the project's database (the embedded one too), in one transaction",
  options: {
    file: { type: "string", short: "f", arg: "file.sql", describe: "run the statements in this file (e.g. an example's schema.sql)" },
    json: { type: "boolean", describe: "print each statement's rows as JSON" },
  },
  async run(flags, args, io, config) {
    if (flags.file !== undefined && args.length) throw new UsageError("give either -f file.sql or a statement, not both");
    let script: string;
    if (typeof flags.file === "string") {
      try {
        script = await readFile(flags.file, "utf8");
      } catch (err) {
        throw new UserError(`cannot read ${flags.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    } else if (args.length) script = args.join(" ");
    else throw new UsageError('give a statement in quotes or -f file.sql');
    const { results } = (await callAdmin(config, "sql.run", { script })) as SqlResult;
    if (flags.json) return io.out(JSON.stringify(results)), 0;
    const last = results[results.length - 1];
    if (last && last.fields.length) {
      printTable(io, last.fields, last.rows.map((r) => last.fields.map((f) => cell(r[f]))));
      io.out(`(${last.rows.length} row${last.rows.length === 1 ? "" : "s"})`);
    } else {
      io.out(`ok: ${results.length} statement${results.length === 1 ? "" : "s"}${last?.rowCount ? `, last changed ${last.rowCount} row${last.rowCount === 1 ? "" : "s"}` : ""}`);
    }
    return 0;
  },
};
