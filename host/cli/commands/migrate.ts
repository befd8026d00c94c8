import type { Command } from "../command.ts";
import { openProjectDb } from "../project-db.ts";

export const migrateCommand: Command = {
  usage: "hangar migrate",
  summary: "apply pending database migrations (schema hangar)",
  options: {},
  async run(_flags, _pos, io, config) {
    const { migrate } = await import("../../db/index.ts");
    const db = await openProjectDb(config);
    try {
      const { applied, version } = await migrate(db);
      io.out(applied.length ? `applied ${applied.join(", ")}; at version ${version}` : `up to date at version ${version}`);
      return 0;
    } finally {
      await db.close();
    }
  },
};
