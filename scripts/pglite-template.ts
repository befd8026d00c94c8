// Builds a migrated PGlite data directory dump for the embedded-backend test pass.
import { rename, writeFile } from "node:fs/promises";
import { migrate } from "../host/db/index.ts";
import { PgliteDb } from "../host/db/pglite.ts";

const out = process.argv[2];
if (!out) throw new Error("usage: pglite-template.ts <out.tgz>");
const db = await PgliteDb.open({ dataDir: "memory://" });
await migrate(db);
const dump = await db.dumpDataDir();
await writeFile(out + ".tmp", Buffer.from(await dump.arrayBuffer()));
await db.close();
await rename(out + ".tmp", out);
