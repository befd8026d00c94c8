// `start --workers 2`: one scrape of /_hangar/metrics, on whichever worker it
// lands, counts the invocations every worker process served.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import pg from "pg";
import { runCli, startServerProcess } from "../helpers/cli.ts";
import { createPgDatabase, dropPgDatabase } from "../helpers/db.ts";

const N = 40;

test("start --workers 2: requests spread over both workers; one scrape counts all of them", { timeout: 120_000 }, async (t) => {
  const url = await createPgDatabase();
  const dir = await mkdtemp(join(tmpdir(), "hangar-cluster-metrics-"));
  const env = { DATABASE_URL: url, HANGAR_ADMIN_TOKEN: "t", HANGAR_SECRET_KEY: "k", HANGAR_NODE_ID: "fleet" };
  await writeFile(join(dir, "hello.ts"), `export default { fetch: () => new Response("hi") };`);
  const deployed = await runCli(["deploy", "--dir", dir], env);
  assert.equal(deployed.code, 0, deployed.stdout + deployed.stderr);
  const server = await startServerProcess(["start", "--workers", "2"], env);
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    // Both workers serve (a fresh connection each time, so the kernel spreads them).
    const nodes = new Set<string>();
    for (let i = 0; i < 200 && nodes.size < 2; i++) {
      const res = await fetch(`${server.url}/_hangar/health`, { headers: { connection: "close" } });
      nodes.add((await res.json()).node);
    }
    assert.equal(nodes.size, 2, "both workers answer");

    for (let i = 0; i < N; i++) {
      const res = await fetch(`${server.url}/functions/v1/hello`, { headers: { connection: "close" } });
      assert.equal(await res.text(), "hi");
    }
    // The invocation log says which worker served each call: both did.
    let served: { node_id: string; n: number }[] = [];
    for (let i = 0; i < 300; i++) {
      ({ rows: served } = await db.query<{ node_id: string; n: number }>(
        "select node_id, count(*)::int as n from hangar.invocations where function_name = 'hello' group by node_id order by node_id",
      ));
      if (served.reduce((s, r) => s + r.n, 0) >= N) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    t.diagnostic(`served: ${served.map((r) => `${r.node_id} ${r.n}`).join(", ")}`);
    assert.deepEqual(served.map((r) => r.node_id), ["fleet-w1", "fleet-w2"], "requests spread over both workers");
    assert.equal(served.reduce((s, r) => s + r.n, 0), N);

    // Every scrape, on either worker, shows the whole instance.
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${server.url}/_hangar/metrics`, { headers: { authorization: "Bearer t", connection: "close" } });
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.match(text, new RegExp(`^hangar_invocations_total\\{function="hello",trigger="http",status="ok",node="fleet"\\} ${N}$`, "m"), text);
      assert.match(text, new RegExp(`^hangar_invocation_duration_seconds_count\\{function="hello",trigger="http",node="fleet"\\} ${N}$`, "m"));
      assert.doesNotMatch(text, /fleet-w\d/, "series carry the instance's node id");
      assert.doesNotMatch(text, /did not answer/);
    }
  } finally {
    await db.end();
    assert.equal(await server.stop(), 0);
    await dropPgDatabase(url);
    await rm(dir, { recursive: true, force: true });
  }
});
