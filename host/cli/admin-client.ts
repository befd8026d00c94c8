import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { HangarConfig } from "../config/index.ts";
import { UserError } from "../errors.ts";

/** Where a running `hangar dev` announces itself, so other CLI commands use it instead of opening the embedded database twice. */
export const devStateFile = (dataDir: string) => join(dataDir, "dev.json");

interface Target {
  url: string;
  token: string;
}

async function remoteTarget(config: HangarConfig): Promise<Target | null> {
  if (config.remoteUrl) return { url: config.remoteUrl.replace(/\/$/, ""), token: config.adminTokenGenerated ? "" : config.adminToken };
  if (config.databaseUrl) return null;
  try {
    const state = JSON.parse(await readFile(devStateFile(config.dataDir), "utf8")) as { url: string; token: string; pid: number };
    process.kill(state.pid, 0);
    return { url: state.url, token: state.token };
  } catch {
    return null;
  }
}

/**
 * Run an admin operation: on the remote instance (`--url`, HANGAR_URL, or a
 * running `hangar dev`), else directly against the configured database.
 */
export async function callAdmin(config: HangarConfig, op: string, args: Record<string, unknown>, opts: { runsFunctions?: boolean } = {}): Promise<unknown> {
  const remote = await remoteTarget(config);
  if (remote) {
    let res: Response;
    try {
      res = await fetch(`${remote.url}/_hangar/api/${op}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${remote.token}` },
        body: JSON.stringify(args),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new UserError(`cannot reach ${remote.url}${cause ? ` (${cause})` : ""}: is the server running?`);
    }
    const body = (await res.json().catch(() => null)) as { result?: unknown; error?: { message: string } } | null;
    if (!res.ok) throw new UserError(body?.error?.message ?? `${remote.url} answered ${res.status}`);
    return body?.result ?? null;
  }
  // Loaded only here: a command that talks to a running instance never pays for the database and server modules.
  const [{ ADMIN_OPS }, { migrate }, { openProjectDb }] = await Promise.all([import("../server/admin-ops.ts"), import("../db/index.ts"), import("./project-db.ts")]);
  const fn = ADMIN_OPS[op];
  if (!fn) throw new UserError(`no admin operation "${op}"`);
  const db = await openProjectDb(config);
  try {
    await migrate(db);
    const actor = `cli:${process.env.USER ?? "unknown"}`;
    if (!opts.runsFunctions) return await fn({ db, config, actor }, args);
    // No server to ask: run the function in this process, on the same database.
    const [{ createCore }, { createLogger }] = await Promise.all([import("../server/core.ts"), import("../log/logger.ts")]);
    const core = await createCore({ db, config, logger: createLogger({ format: config.logFormat, level: "warn" }) });
    try {
      return await fn({ db, config, actor, runtime: core.runtime, registry: core.registry, invoker: core.invoker }, args);
    } finally {
      await core.close();
    }
  } finally {
    await db.close();
  }
}
