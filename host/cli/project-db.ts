import type { HangarConfig } from "../config/index.ts";
import type { Db } from "../db/index.ts";
import { lockDataDir } from "./data-lock.ts";

/**
 * Open the project's database; the embedded one is locked to this process
 * first (a restart of its thread stays within the lock), and unlocked by close().
 */
export async function openProjectDb(config: HangarConfig, poolSize?: number, onWarn?: (message: string) => void): Promise<Db> {
  const { openDb } = await import("../db/index.ts");
  if (config.databaseUrl) return openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, nodeId: config.nodeId, poolSize, settings: config.db, onWarn });
  const release = lockDataDir(config.dataDir);
  let db: Db;
  try {
    db = await openDb({ databaseUrl: null, dataDir: config.dataDir, nodeId: config.nodeId, poolSize, onWarn });
  } catch (err) {
    release();
    throw err;
  }
  const close = db.close.bind(db);
  db.close = async () => {
    try {
      await close();
    } finally {
      release();
    }
  };
  return db;
}
