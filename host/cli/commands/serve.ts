import { resolveConfig } from "../../config/index.ts";
import { createLogger } from "../../log/logger.ts";
import { startServer } from "../../server/index.ts";
import type { Command, Io } from "../command.ts";

async function serveUntilSignal(mode: "dev" | "start", flags: Record<string, unknown>, io: Io): Promise<number> {
  const config = resolveConfig(mode, flags as Record<string, string>);
  const logger = createLogger({ format: config.logFormat, level: config.logLevel }, { node: config.nodeId });
  const server = await startServer({ config, logger });
  logger.info(`hangar ${mode} listening`, { url: server.url, database: server.db.kind });
  if (config.adminTokenGenerated) io.err(`admin token for this session: ${config.adminToken}`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info("shutting down", { signal });
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await server.close();
  logger.info("stopped");
  return 0;
}

export const devCommand: Command = {
  usage: "hangar dev [--dir functions] [--port 8787]",
  summary: "serve ./functions on the embedded database (or $DATABASE_URL), redeploying on save",
  options: { dir: { type: "string" }, port: { type: "string" }, host: { type: "string" } },
  run: (flags, _pos, io) => serveUntilSignal("dev", flags, io),
};

export const startCommand: Command = {
  usage: "hangar start [--port 8787] [--workers N]",
  summary: "production: serve what is deployed in Postgres",
  options: { port: { type: "string" }, workers: { type: "string" }, host: { type: "string" } },
  run: (flags, _pos, io) => serveUntilSignal("start", flags, io),
};
