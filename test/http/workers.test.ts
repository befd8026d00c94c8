import assert from "node:assert/strict";
import { test } from "node:test";
import { startServerProcess } from "../helpers/cli.ts";
import { createPgDatabase, dropPgDatabase } from "../helpers/db.ts";

test("start --workers 2 runs two full instances on one port", async () => {
  const url = await createPgDatabase();
  const server = await startServerProcess(["start", "--workers", "2"], { DATABASE_URL: url, HANGAR_ADMIN_TOKEN: "t", HANGAR_SECRET_KEY: "k", HANGAR_NODE_ID: "fleet" });
  try {
    const nodes = new Set<string>();
    for (let i = 0; i < 200 && nodes.size < 2; i++) {
      const res = await fetch(`${server.url}/_hangar/health`, { headers: { connection: "close" } });
      assert.equal(res.status, 200);
      nodes.add((await res.json()).node);
    }
    assert.deepEqual([...nodes].sort(), ["fleet-w1", "fleet-w2"]);
  } finally {
    assert.equal(await server.stop(), 0);
    await dropPgDatabase(url);
  }
});
