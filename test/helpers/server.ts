// An in-process dev server on a free port serving the functions in `dir`,
// each deployed and already active when it returns.
import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveConfig, type HangarConfig } from "../../host/config/index.ts";
import type { Db } from "../../host/db/index.ts";
import { deployDir } from "../../host/dev/deploy-dir.ts";
import { createLogger } from "../../host/log/logger.ts";
import { registryOps } from "../../host/registry/admin.ts";
import type { DeployResult } from "../../host/registry/index.ts";
import { startServer, type HangarServer } from "../../host/server/index.ts";

/** `hangar dev` configuration for `dir` (data under dir/.hangar), with `env` as the environment. */
export function devConfig(dir: string, env: Record<string, string> = {}): HangarConfig {
  return { ...resolveConfig("dev", { port: "0", "data-dir": join(dir, ".hangar") }, env), functionsDir: dir };
}

/** Start a server with `config` on `db`, deploy every function in its folder, and wait until they are served. */
export async function serveDeployed(config: HangarConfig, db: Db): Promise<HangarServer> {
  const server = await startServer({ config, logger: createLogger({ format: "json", level: "error" }), db });
  try {
    const ctx = { db, config, runtime: server.core.runtime, actor: "test" };
    const reports = await deployDir(config.functionsDir, [], (args) => registryOps["functions.deploy"](ctx, args) as Promise<DeployResult>);
    for (const r of reports) assert.equal(r.error, undefined, r.error);
    await server.core.registry.refresh(true);
    return server;
  } catch (err) {
    await server.close();
    throw err;
  }
}
