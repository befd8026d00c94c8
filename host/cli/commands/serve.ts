import cluster from "node:cluster";
import { existsSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import type { HangarConfig } from "../../config/index.ts";
import type { Db } from "../../db/index.ts";
import type { Logger } from "../../log/logger.ts";
import type { DeployResult } from "../../registry/index.ts";
import type { HangarServer } from "../../server/index.ts";
import { devStateFile } from "../admin-client.ts";
import type { Command, Io } from "../command.ts";
import { loadEnvFile } from "../env-file.ts";
import { openProjectDb } from "../project-db.ts";

function untilSignal(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      logger.info("shutting down", { signal });
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/** dev: deploy ./functions, print URLs, redeploy on save, delete what is removed; errors are shown, the server keeps running. */
async function startDevLoop(server: HangarServer, config: HangarConfig, io: Io): Promise<() => void> {
  if (!existsSync(config.functionsDir)) {
    io.err(`no functions directory at ${config.functionsDir}: create it and add functions/<name>.ts`);
    return () => {};
  }
  const [{ createDevLoop }, { watchPendingTables }, { watchDir }, { registryOps }] = await Promise.all([
    import("../../dev/loop.ts"),
    import("../../dev/pending-tables.ts"),
    import("../../dev/watch.ts"),
    import("../../registry/admin.ts"),
  ]);
  const loop = createDevLoop({
    db: server.db,
    dir: config.functionsDir,
    url: server.url,
    // The URL is printed once this instance serves the new version, not when the NOTIFY comes round.
    deploy: async (args) => {
      const result = (await registryOps["functions.deploy"]({ db: server.db, config, runtime: server.core.runtime, actor: "dev", dev: true }, args)) as DeployResult;
      await server.core.registry.refresh(true);
      return result;
    },
    out: io.out,
    err: io.err,
  });
  const pass = (initial: boolean) => loop.pass(initial).catch((err) => io.err(`✗ redeploy failed: ${(err as Error).message}`));
  await pass(true);
  const stopTables = watchPendingTables(server.db, () => server.core.registry.list(), io.out);
  const stopFiles = watchDir(config.functionsDir, () => pass(false));
  return () => {
    stopTables();
    stopFiles();
  };
}

async function serve(mode: "dev" | "start", flags: Record<string, unknown>, io: Io, resolved: HangarConfig): Promise<number> {
  let config = resolved;
  if (mode === "dev") {
    const env = await loadEnvFile(typeof flags["env-file"] === "string" ? flags["env-file"] : null);
    if (env) {
      config = { ...config, functionEnv: env.values };
      io.err(`env: ${Object.keys(env.values).length} value(s) from ${env.path} given to every function`);
    }
  }
  if (mode === "start" && config.workers > 1 && cluster.isPrimary) return runPrimary(config, io);
  const [{ startServer }, { createLogger }, { printInvocations }] = await Promise.all([
    import("../../server/index.ts"),
    import("../../log/logger.ts"),
    import("../../dev/print-invocations.ts"),
  ]);
  const nodeId = cluster.isWorker ? `${config.nodeId}-w${cluster.worker!.id}` : config.nodeId;
  const logger = createLogger({ format: config.logFormat, level: config.logLevel }, { node: nodeId });
  const db: Db = await openProjectDb(config, undefined, (message) => logger.warn(message));
  let server: HangarServer;
  try {
    server = await startServer({ config: { ...config, nodeId }, logger, db, dev: mode === "dev", recorder: mode === "dev" ? printInvocations(io.out) : undefined });
  } catch (err) {
    await db.close();
    throw err;
  }
  logger.info(`hangar ${mode} listening`, { url: server.url, database: server.db.kind });
  let stopWatching = () => {};
  const stateFile = devStateFile(config.dataDir);
  if (mode === "dev") {
    if (config.adminTokenGenerated) io.err(`admin token for this session: ${config.adminToken}`);
    if (!config.databaseUrl) await writeFile(stateFile, JSON.stringify({ url: server.url, token: config.adminToken, pid: process.pid }), { mode: 0o600 });
    stopWatching = await startDevLoop(server, config, io);
  }
  await untilSignal(logger);
  stopWatching();
  if (mode === "dev" && !config.databaseUrl) await rm(stateFile, { force: true });
  await server.close();
  await db.close();
  logger.info("stopped");
  // The IPC channel to the cluster primary would keep a worker alive.
  if (cluster.isWorker) process.disconnect();
  return 0;
}

/** `start --workers N`: N full instances sharing one port through node:cluster. */
async function runPrimary(config: HangarConfig, io: Io): Promise<number> {
  const [{ createLogger }, { serveClusterMetrics }] = await Promise.all([import("../../log/logger.ts"), import("../../metrics/cluster.ts")]);
  const logger = createLogger({ format: config.logFormat, level: config.logLevel }, { node: config.nodeId });
  // A scrape on any worker shows the whole instance: the primary merges every worker's registry.
  const stopMetrics = serveClusterMetrics(config.nodeId);
  let stopping = false;
  for (let i = 0; i < config.workers; i++) cluster.fork();
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) return;
    logger.warn("worker exited; starting another", { worker: worker.id, code, signal });
    cluster.fork();
  });
  await untilSignal(logger);
  stopping = true;
  const workers = Object.values(cluster.workers ?? {});
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (!w || w.isDead()) return resolve();
          w.once("exit", () => resolve());
          w.process.kill("SIGTERM");
        }),
    ),
  );
  stopMetrics();
  io.err("all workers stopped");
  return 0;
}

const PORT = { type: "string", arg: "port", describe: "HTTP port (default $HANGAR_PORT or 8787; 0 picks a free one)" } as const;
const HOST = { type: "string", arg: "addr", describe: "address to listen on (dev default 127.0.0.1, start 0.0.0.0)" } as const;

export const devCommand: Command = {
  usage: "hangar dev [--dir functions] [--port 8787] [--env-file .env]",
  summary: "serve ./functions on the embedded database (or $DATABASE_URL), redeploying on save",
  mode: "dev",
  options: {
    dir: { type: "string", arg: "dir", describe: "the functions folder to watch (default functions)" },
    port: PORT,
    host: HOST,
    "env-file": { type: "string", arg: "file", describe: "KEY=value lines given to every function as env (default .env if present)" },
  },
  run: (flags, _pos, io, config) => serve("dev", flags, io, config),
};

export const startCommand: Command = {
  usage: "hangar start [--port 8787] [--workers N]",
  summary: "production: serve what is deployed in Postgres",
  mode: "start",
  options: {
    port: PORT,
    host: HOST,
    workers: { type: "string", arg: "N", describe: "N processes sharing the port (default 1)" },
  },
  run: (flags, _pos, io, config) => serve("start", flags, io, config),
};
