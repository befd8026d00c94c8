import { resolveConfig } from "../../config/index.ts";
import { migrate, openDb } from "../../db/index.ts";
import type { Command } from "../command.ts";

export const migrateCommand: Command = {
  usage: "hangar migrate",
  summary: "apply pending database migrations (schema hangar)",
  options: {},
  async run(flags, _pos, io) {
    const config = resolveConfig("cli", flags);
    const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, nodeId: config.nodeId });
    try {
      const { applied, version } = await migrate(db);
      io.out(applied.length ? `applied ${applied.join(", ")}; at version ${version}` : `up to date at version ${version}`);
      return 0;
    } finally {
      await db.close();
    }
  },
};
