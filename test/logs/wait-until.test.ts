// Console lines a function writes from waitUntil work after its response was
// sent are stored with that invocation (the record waits for its end).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { resolveConfig } from "../../host/config/index.ts";
import { openDb } from "../../host/db/index.ts";
import { deployDir, formatDeploy } from "../../host/dev/deploy-dir.ts";
import { createLogger } from "../../host/log/logger.ts";
import { queryLogs } from "../../host/logs/index.ts";
import { registryOps } from "../../host/registry/admin.ts";
import type { DeployResult } from "../../host/registry/index.ts";
import { startServer } from "../../host/server/index.ts";
import { createPgDatabase, dropPgDatabase } from "../helpers/db.ts";

const dir = fileURLToPath(new URL("./fixtures/late", import.meta.url));

test("console lines of waitUntil work after the response are recorded with the invocation", { timeout: 60_000 }, async () => {
  const url = await createPgDatabase();
  const config = { ...resolveConfig("start", { port: "0", host: "127.0.0.1" }, { DATABASE_URL: url, HANGAR_SECRET_KEY: "wait-until-test-key-0123456789ab", HANGAR_ADMIN_TOKEN: "t" }) };
  const db = await openDb({ databaseUrl: url, dataDir: "", nodeId: config.nodeId });
  const server = await startServer({ config, db, logger: createLogger({ format: "json", level: "error" }) });
  try {
    const reports = await deployDir(dir, [], (args) => registryOps["functions.deploy"]({ db, config, runtime: server.core.runtime, actor: "test" }, args) as Promise<DeployResult>, async () => {});
    assert.ok(reports.every((r) => !r.error), reports.map(formatDeploy).join("\n"));
    await server.core.registry.refresh(true);

    const res = await fetch(`${server.url}/functions/v1/late`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "sent");
    const requestId = res.headers.get("x-request-id")!;

    const deadline = Date.now() + 20_000;
    let lines: string[] = [];
    while (Date.now() < deadline) {
      const { invocations } = await queryLogs(db, { name: "late" });
      const mine = invocations.find((e) => e.requestId === requestId);
      lines = mine?.logs?.map((l) => l.message) ?? [];
      if (mine) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // the record is written once, when the invocation is over: both lines are in it
    assert.deepEqual(lines, ["before the response", "after the response"]);
  } finally {
    await server.close();
    await db.close();
    await dropPgDatabase(url);
  }
});
