import cluster from "node:cluster";
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { devStateFile } from "../../admin/client.ts";
import { resolveConfig, type HangarConfig } from "../../config/index.ts";
import { deployDir, formatDeploy } from "../../dev/deploy-dir.ts";
import { watchPendingTables } from "../../dev/pending-tables.ts";
import { watchDir } from "../../dev/watch.ts";
import { createLogger, type Logger } from "../../log/logger.ts";
import { registryOps } from "../../registry/admin.ts";
import type { DeployResult } from "../../registry/index.ts";
import { startServer, type HangarServer } from "../../server/index.ts";
import type { Command, Io } from "../command.ts";

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

/** dev: deploy ./functions, print URLs, redeploy on save; build errors are shown, the server keeps running. */
async function startDevLoop(server: HangarServer, config: HangarConfig, io: Io): Promise<() => void> {
  const deploy = (args: { name: string; code: string; map: string; hash: string }) =>
    registryOps["functions.deploy"]({ db: server.db, config, runtime: server.core.runtime, actor: "dev", dev: true }, args) as Promise<DeployResult>;
  const deployAll = async (initial: boolean) => {
    const reports = await deployDir(config.functionsDir, [], deploy);
    for (const r of reports) {
      if (initial || r.error || !r.result?.unchanged) io.out(formatDeploy(r));
      if (initial && r.result) io.out(`    ${server.url}/functions/v1/${r.name}`);
    }
  };
  if (!existsSync(config.functionsDir)) {
    io.err(`no functions directory at ${config.functionsDir}: create it and add functions/<name>.ts`);
    return () => {};
  }
  await deployAll(true);
  const stopTables = watchPendingTables(server.db, () => server.core.registry.list(), io.out);
  const stopFiles = watchDir(config.functionsDir, () => deployAll(false).catch((err) => io.err(`redeploy failed: ${(err as Error).message}`)));
  return () => {
    stopTables();
    stopFiles();
  };
}

async function serve(mode: "dev" | "start", flags: Record<string, unknown>, io: Io): Promise<number> {
  const config = resolveConfig(mode, flags as Record<string, string>);
  if (mode === "start" && config.workers > 1 && cluster.isPrimary) return runPrimary(config, io);
  const nodeId = cluster.isWorker ? `${config.nodeId}-w${cluster.worker!.id}` : config.nodeId;
  const logger = createLogger({ format: config.logFormat, level: config.logLevel }, { node: nodeId });
  const server = await startServer({ config: { ...config, nodeId }, logger, dev: mode === "dev" });
  logger.info(`hangar ${mode} listening`, { url: server.url, database: server.db.kind });
  let stopWatching = () => {};
  const stateFile = devStateFile(config.dataDir);
  if (mode === "dev") {
    if (config.adminTokenGenerated) io.err(`admin token for this session: ${config.adminToken}`);
    if (!config.databaseUrl) {
      await mkdir(config.dataDir, { recursive: true });
      await writeFile(stateFile, JSON.stringify({ url: server.url, token: config.adminToken, pid: process.pid }), { mode: 0o600 });
    }
    stopWatching = await startDevLoop(server, config, io);
  }
  await untilSignal(logger);
  stopWatching();
  if (mode === "dev" && !config.databaseUrl) await rm(stateFile, { force: true });
  await server.close();
  logger.info("stopped");
  // The IPC channel to the cluster primary would keep a worker alive.
  if (cluster.isWorker) process.disconnect();
  return 0;
}

/** `start --workers N`: N full instances sharing one port through node:cluster. */
async function runPrimary(config: HangarConfig, io: Io): Promise<number> {
  const logger = createLogger({ format: config.logFormat, level: config.logLevel }, { node: config.nodeId });
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
  io.err("all workers stopped");
  return 0;
}

export const devCommand: Command = {
  usage: "hangar dev [--dir functions] [--port 8787]",
  summary: "serve ./functions on the embedded database (or $DATABASE_URL), redeploying on save",
  options: { dir: { type: "string" }, port: { type: "string" }, host: { type: "string" } },
  run: (flags, _pos, io) => serve("dev", flags, io),
};

export const startCommand: Command = {
  usage: "hangar start [--port 8787] [--workers N]",
  summary: "production: serve what is deployed in Postgres",
  options: { port: { type: "string" }, workers: { type: "string" }, host: { type: "string" } },
  run: (flags, _pos, io) => serve("start", flags, io),
};
