import { servesHttp } from "../../build/config.ts";
import { UsageError, UserError } from "../../errors.ts";
import type { DeployResult } from "../../registry/index.ts";
import { callAdmin } from "../admin-client.ts";
import type { Command } from "../command.ts";
import { printTable } from "../table.ts";

export const deployCommand: Command = {
  usage: "hangar deploy [name...] [--dir functions] [--offline]",
  summary: "bundle, validate and store a new version of each function; prints it",
  options: {
    dir: { type: "string", arg: "dir", describe: "the functions folder (default functions)" },
    json: { type: "boolean", describe: "print one JSON report" },
    offline: { type: "boolean", describe: "use only what hangar.lock.json and the cache hold; never reach the network" },
  },
  async run(flags, names, io, config) {
    // Progress on a terminal when there are several to deploy; nothing when piped.
    const tty = process.stderr.isTTY && !flags.json;
    const progress = (done: number, total: number, name: string) => {
      if (tty && total > 2) process.stderr.write(`\r\x1b[2Kdeploying ${done + 1}/${total}: ${name}`);
    };
    // Loaded here: the bundler and the sandbox runtime cost every other command ~0.3 s of start-up.
    const { deployDir, formatDeploy } = await import("../../dev/deploy-dir.ts");
    const reports = await deployDir(
      config.functionsDir,
      names,
      (args) => callAdmin(config, "functions.deploy", args) as Promise<DeployResult>,
      async (_name, script) => void (await callAdmin(config, "sql.run", { script })),
      progress,
      { offline: flags.offline === true },
    );
    if (tty) process.stderr.write("\r\x1b[2K");
    if (!reports.length) throw new UserError(`no functions found in ${config.functionsDir}`);
    if (flags.json) io.out(JSON.stringify(reports));
    else for (const r of reports) (r.error ? io.err : io.out)(formatDeploy(r));
    return reports.some((r) => r.error) ? 1 : 0;
  },
};

export const rollbackCommand: Command = {
  usage: "hangar rollback <name> [--to <version>]",
  summary: "switch a function back to its previous version (or --to N)",
  options: { to: { type: "string", arg: "version", describe: "the version to serve (default: the one before)" } },
  async run(flags, [name, ...extra], io, config) {
    if (!name || extra.length) throw new UsageError("rollback takes exactly one function name");
    const r = (await callAdmin(config, "functions.rollback", { name, to: flags.to ?? null })) as DeployResult;
    io.out(r.unchanged ? `${name}: already at version ${r.version}` : `✓ ${name}: now serving version ${r.version} (${r.hash.slice(0, 12)})`);
    return 0;
  },
};

export const listCommand: Command = {
  usage: "hangar list",
  summary: "deployed functions with their active version",
  options: { json: { type: "boolean", describe: "print JSON" } },
  async run(flags, _pos, io, config) {
    const rows = (await callAdmin(config, "functions.list", {})) as Record<string, unknown>[];
    if (flags.json) return io.out(JSON.stringify(rows)), 0;
    if (!rows.length) return io.out("no functions deployed"), 0;
    printTable(
      io,
      ["NAME", "VERSION", "HASH", "AUTH", "TRIGGERS", "DEPLOYED"],
      rows.map((r) => {
        const c = (r.config ?? {}) as { auth?: string; schedule?: string | null; events?: unknown[]; listen?: string[]; handlers?: string[] };
        const triggers = [servesHttp(c.handlers) ? "http" : "", c.schedule ? `cron ${c.schedule}` : "", c.events?.length ? "events" : "", c.listen?.length ? "listen" : ""].filter(Boolean).join(", ");
        return [String(r.name), String(r.version ?? "-"), String(r.hash ?? "").slice(0, 12), c.auth ?? "", triggers, new Date(String(r.deployed_at)).toISOString()];
      }),
    );
    return 0;
  },
};

export const invokeCommand: Command = {
  usage: "hangar invoke <name> [--method M] [--data JSON] [--header K:V] [--path /rest]",
  summary: "call a function's fetch handler and print the response",
  options: {
    method: { type: "string", arg: "M", describe: "HTTP method (default GET, or POST with --data)" },
    data: { type: "string", arg: "body", describe: "request body (content-type application/json unless set)" },
    header: { type: "string", multiple: true, arg: "K:V", describe: "a request header; repeat for more" },
    path: { type: "string", arg: "/rest", describe: "path after the function's name" },
    include: { type: "boolean", short: "i", describe: "print the status line and headers too" },
  },
  async run(flags, [name, ...extra], io, config) {
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
    const res = (await callAdmin(config, "functions.invoke", { name, method, headers, body: data, path: flags.path ?? "" }, { runsFunctions: true })) as {
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
  options: {
    label: { type: "string", arg: "L", describe: "create: a label to recognise the key by" },
    json: { type: "boolean", describe: "print JSON" },
  },
  async run(flags, [sub, arg, ...extra], io, config) {
    if (extra.length) throw new UsageError("too many arguments");
    if (sub === "create" && arg) {
      const k = (await callAdmin(config, "keys.create", { name: arg, label: flags.label })) as { id: string; key: string };
      io.out(flags.json ? JSON.stringify(k) : `${k.key}\n(key id ${k.id}; shown once, store it now)`);
      return 0;
    }
    if (sub === "list") {
      const rows = (await callAdmin(config, "keys.list", { name: arg })) as Record<string, unknown>[];
      if (flags.json) io.out(JSON.stringify(rows));
      else printTable(io, ["ID", "FUNCTION", "LABEL", "CREATED"], rows.map((r) => [String(r.id), String(r.function), String(r.label), String(r.created_at)]));
      return 0;
    }
    if (sub === "revoke" && arg) {
      await callAdmin(config, "keys.revoke", { id: arg });
      io.out(`revoked ${arg}`);
      return 0;
    }
    throw new UsageError("expected create <function>, list [function] or revoke <id>");
  },
};

export const deleteCommand: Command = {
  usage: "hangar delete <name>",
  summary: "remove a function: its versions, table triggers, pending events and cron schedule",
  options: {},
  async run(_flags, [name, ...extra], io, config) {
    if (!name || extra.length) throw new UsageError("delete takes exactly one function name");
    const r = (await callAdmin(config, "functions.delete", { name })) as { versions: number; triggers: number };
    const what = [`${r.versions} version${r.versions === 1 ? "" : "s"}`, r.triggers ? `${r.triggers} table trigger${r.triggers === 1 ? "" : "s"}` : ""].filter(Boolean);
    io.out(`- ${name}: deleted (${what.join(", ")})`);
    return 0;
  },
};

export const versionsCommand: Command = {
  usage: "hangar versions <name>",
  summary: "a function's stored versions, newest first; * marks the one serving",
  options: { json: { type: "boolean", describe: "print JSON" } },
  async run(flags, [name, ...extra], io, config) {
    if (!name || extra.length) throw new UsageError("versions takes exactly one function name");
    const rows = (await callAdmin(config, "functions.versions", { name })) as { version: number; hash: string; created_at: string; deployed_by: string; active: boolean }[];
    if (flags.json) return io.out(JSON.stringify(rows)), 0;
    if (!rows.length) throw new UserError(`function "${name}" is not deployed`);
    printTable(
      io,
      ["", "VERSION", "HASH", "DEPLOYED", "BY"],
      rows.map((r) => [r.active ? "*" : "", String(r.version), r.hash.slice(0, 12), new Date(r.created_at).toISOString(), r.deployed_by]),
    );
    return 0;
  },
};
