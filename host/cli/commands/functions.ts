import { resolveConfig } from "../../config/index.ts";
import { deployDir, formatDeploy } from "../../dev/deploy-dir.ts";
import { UsageError, UserError } from "../../errors.ts";
import type { DeployResult } from "../../registry/index.ts";
import { callAdmin } from "../../admin/client.ts";
import type { Command } from "../command.ts";
import { printTable } from "../table.ts";

export const deployCommand: Command = {
  usage: "hangar deploy [name...] [--dir functions] [--offline]",
  summary: "bundle, validate and store a new version of each function; prints it (--offline: only what hangar.lock.json and the cache hold)",
  options: { dir: { type: "string" }, json: { type: "boolean" }, offline: { type: "boolean" } },
  async run(flags, names, io) {
    const config = resolveConfig("cli", flags);
    const reports = await deployDir(config.functionsDir, names, (args) => callAdmin(flags, "functions.deploy", args) as Promise<DeployResult>, { offline: flags.offline === true });
    if (!reports.length) throw new UserError(`no functions found in ${config.functionsDir}`);
    if (flags.json) io.out(JSON.stringify(reports));
    else for (const r of reports) (r.error ? io.err : io.out)(formatDeploy(r));
    return reports.some((r) => r.error) ? 1 : 0;
  },
};

export const rollbackCommand: Command = {
  usage: "hangar rollback <name> [--to <version>]",
  summary: "switch a function back to its previous version (or --to N)",
  options: { to: { type: "string" } },
  async run(flags, [name, ...extra], io) {
    if (!name || extra.length) throw new UsageError("rollback takes exactly one function name");
    const r = (await callAdmin(flags, "functions.rollback", { name, to: flags.to ?? null })) as DeployResult;
    io.out(r.unchanged ? `${name}: already at version ${r.version}` : `✓ ${name}: now serving version ${r.version} (${r.hash.slice(0, 12)})`);
    return 0;
  },
};

export const listCommand: Command = {
  usage: "hangar list",
  summary: "deployed functions with their active version",
  options: { json: { type: "boolean" } },
  async run(flags, _pos, io) {
    const rows = (await callAdmin(flags, "functions.list", {})) as Record<string, unknown>[];
    if (flags.json) return io.out(JSON.stringify(rows)), 0;
    if (!rows.length) return io.out("no functions deployed"), 0;
    printTable(
      io,
      ["NAME", "VERSION", "HASH", "AUTH", "TRIGGERS", "DEPLOYED"],
      rows.map((r) => {
        const c = (r.config ?? {}) as { auth?: string; schedule?: string | null; events?: unknown[]; listen?: string[] };
        const triggers = ["http", c.schedule ? `cron ${c.schedule}` : "", c.events?.length ? "events" : "", c.listen?.length ? "listen" : ""].filter(Boolean).join(", ");
        return [String(r.name), String(r.version ?? "-"), String(r.hash ?? "").slice(0, 12), c.auth ?? "", triggers, new Date(String(r.deployed_at)).toISOString()];
      }),
    );
    return 0;
  },
};

export const invokeCommand: Command = {
  usage: "hangar invoke <name> [--method M] [--data JSON] [--header K:V] [--path /rest]",
  summary: "call a function's fetch handler and print the response",
  options: { method: { type: "string" }, data: { type: "string" }, header: { type: "string", multiple: true }, path: { type: "string" }, include: { type: "boolean", short: "i" } },
  async run(flags, [name, ...extra], io) {
    if (!name || extra.length) throw new UsageError("invoke takes exactly one function name");
    const headers: [string, string][] = [];
    for (const h of (flags.header as string[] | undefined) ?? []) {
      const i = h.indexOf(":");
      if (i < 1) throw new UsageError(`--header must be K:V, got "${h}"`);
      headers.push([h.slice(0, i).trim(), h.slice(i + 1).trim()]);
    }
    const data = flags.data as string | undefined;
    if (data !== undefined && !headers.some(([k]) => k.toLowerCase() === "content-type")) headers.push(["content-type", "application/json"]);
    const method = (flags.method as string | undefined) ?? (data !== undefined ? "POST" : "GET");
    const res = (await callAdmin(flags, "functions.invoke", { name, method, headers, body: data, path: flags.path ?? "" }, { runsFunctions: true })) as {
      status: number;
      headers: [string, string][];
      body: string;
    };
    if (flags.include) {
      io.out(`HTTP ${res.status}`);
      for (const [k, v] of res.headers) io.out(`${k}: ${v}`);
      io.out("");
    }
    io.out(res.body);
    return res.status >= 400 ? 1 : 0;
  },
};

export const keysCommand: Command = {
  usage: "hangar keys create <function> [--label L] | list [function] | revoke <id>",
  summary: "API keys for functions with auth: \"key\" (shown once, stored hashed)",
  options: { label: { type: "string" }, json: { type: "boolean" } },
  async run(flags, [sub, arg, ...extra], io) {
    if (extra.length) throw new UsageError("too many arguments");
    if (sub === "create" && arg) {
      const k = (await callAdmin(flags, "keys.create", { name: arg, label: flags.label })) as { id: string; key: string };
      io.out(flags.json ? JSON.stringify(k) : `${k.key}\n(key id ${k.id}; shown once, store it now)`);
      return 0;
    }
    if (sub === "list") {
      const rows = (await callAdmin(flags, "keys.list", { name: arg })) as Record<string, unknown>[];
      if (flags.json) io.out(JSON.stringify(rows));
      else printTable(io, ["ID", "FUNCTION", "LABEL", "CREATED"], rows.map((r) => [String(r.id), String(r.function), String(r.label), String(r.created_at)]));
      return 0;
    }
    if (sub === "revoke" && arg) {
      await callAdmin(flags, "keys.revoke", { id: arg });
      io.out(`revoked ${arg}`);
      return 0;
    }
    throw new UsageError("expected create <function>, list [function] or revoke <id>");
  },
};
