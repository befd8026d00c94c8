import { callAdmin } from "../admin-client.ts";
import { UsageError } from "../../errors.ts";
import type { Command } from "../command.ts";
import { printTable } from "../table.ts";

interface Listed {
  name: string;
  function: string | null;
  updated_at: string;
}

/** `hangar secrets set NAME=VALUE [--function name] | list [--function name] | unset NAME [--function name]` */
export const secretsCommand: Command = {
  usage: "hangar secrets set NAME=VALUE [--function name] | list | unset NAME",
  summary: "store, list (names only) or remove encrypted secrets, global or for one function",
  options: {
    function: { type: "string", arg: "name", describe: "the secret belongs to this function only (default: global)" },
    json: { type: "boolean", describe: "print JSON" },
  },
  async run(flags, [sub, ...rest], io, config) {
    const fn = typeof flags.function === "string" ? flags.function : undefined;
    const where = fn ? ` for function ${fn}` : " (global)";
    if (sub === "set") {
      const [pair, ...extra] = rest;
      const eq = pair?.indexOf("=") ?? -1;
      if (!pair || eq < 1 || extra.length) throw new UsageError("secrets set takes one NAME=VALUE");
      const name = pair.slice(0, eq);
      await callAdmin(config, "secrets.set", { name, value: pair.slice(eq + 1), function: fn });
      io.out(`✓ set ${name}${where}`);
      return 0;
    }
    if (sub === "unset") {
      const [name, ...extra] = rest;
      if (!name || extra.length) throw new UsageError("secrets unset takes one NAME");
      await callAdmin(config, "secrets.unset", { name, function: fn });
      io.out(`✓ removed ${name}${where}`);
      return 0;
    }
    if (sub === "list") {
      if (rest.length) throw new UsageError("secrets list takes no arguments");
      const { secrets } = (await callAdmin(config, "secrets.list", { function: fn })) as { secrets: Listed[] };
      if (flags.json) io.out(JSON.stringify(secrets));
      else if (!secrets.length) io.out("no secrets");
      else printTable(io, ["NAME", "FUNCTION", "UPDATED"], secrets.map((s) => [s.name, s.function ?? "(global)", s.updated_at]));
      return 0;
    }
    throw new UsageError(sub ? `unknown secrets subcommand "${sub}"` : "secrets needs a subcommand: set, list or unset");
  },
};
