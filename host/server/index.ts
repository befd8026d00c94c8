import type { HangarConfig } from "../config/index.ts";
import { migrate, openDb, type Db } from "../db/index.ts";
import { createApp } from "../http/app.ts";
import type { Logger } from "../log/logger.ts";
import { HANGAR_VERSION } from "../version.ts";
import { listen } from "./http-server.ts";

export interface ServerOptions {
  config: HangarConfig;
  logger: Logger;
}

export interface HangarServer {
  url: string;
  port: number;
  db: Db;
  /** Graceful: stop accepting, finish in-flight work, close everything. Safe twice. */
  close(): Promise<void>;
}

/** Compose one instance: database, migrations, HTTP. */
export async function startServer({ config, logger }: ServerOptions): Promise<HangarServer> {
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, nodeId: config.nodeId });
  const closers: (() => Promise<void>)[] = [() => db.close()];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch((err) => logger.error("close failed", { err }));
  };
  try {
    const { applied, version } = await migrate(db);
    if (applied.length) logger.info("migrated", { applied, version });
    const app = createApp({ db, version: HANGAR_VERSION, nodeId: config.nodeId });
    const http = await listen(app, config.port, config.hostname);
    closers.push(() => http.close(config.defaultLimits.wallMs));
    let closing: Promise<void> | null = null;
    return {
      url: http.url,
      port: http.port,
      db,
      close() {
        closing ??= closeAll();
        return closing;
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
