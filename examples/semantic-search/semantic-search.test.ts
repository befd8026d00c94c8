// End to end through a real server: the README's ingest and query calls,
// and functions/search seeding itself on first call.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { runCli, startServerProcess, type ServerProcess } from "../../test/helpers/cli.ts";
import { createPgDatabase, dropPgDatabase } from "../../test/helpers/db.ts";

const EXAMPLE = fileURLToPath(new URL("./functions", import.meta.url));
const SEARCH = fileURLToPath(new URL("../../functions", import.meta.url));
let dbUrl: string;
let server: ServerProcess;

before(async () => {
  dbUrl = await createPgDatabase();
  const env = { DATABASE_URL: dbUrl, HANGAR_ADMIN_TOKEN: "admin-token", HANGAR_SECRET_KEY: "secret-key" };
  for (const [dir, names] of [[EXAMPLE, []], [SEARCH, ["search"]]] as const) {
    const r = await runCli(["deploy", "--dir", dir, ...names], env);
    assert.equal(r.code, 0, r.stderr + r.stdout);
  }
  server = await startServerProcess(["start"], env);
});

after(async () => {
  await server?.kill();
  if (dbUrl) await dropPgDatabase(dbUrl);
});

async function json(res: Response): Promise<any> {
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text);
}

test("ingest then query, nearest first, with a metadata filter", async () => {
  const ingest = await fetch(`${server.url}/functions/v1/ingest`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      documents: [
        { id: "1", text: "Postgres is a relational database", metadata: { lang: "en" } },
        { id: "2", text: "Sourdough bread rises slowly", metadata: { lang: "en" } },
        { id: "3", text: "Postgres ist eine relationale Datenbank", metadata: { lang: "de" } },
      ],
    }),
  });
  const ing = await json(ingest);
  assert.deepEqual(ing, { ingested: 3 });
  const q = await json(await fetch(`${server.url}/functions/v1/query?q=database&k=1`));
  assert.equal(q.results[0].id, "1");
  const de = await json(await fetch(`${server.url}/functions/v1/query?q=database&lang=de`));
  assert.deepEqual(de.results.map((h: any) => h.id), ["3"]);
});

test("functions/search seeds its corpus on first call and ranks by meaning", async () => {
  const body = await json(await fetch(`${server.url}/functions/v1/search?q=${encodeURIComponent("bread yeast")}&k=3`));
  assert.equal(body.results.length, 3);
  assert.equal(body.results[0].title, "Sourdough bread");
  const again = await json(await fetch(`${server.url}/functions/v1/search?q=notifications&topic=postgres&k=2`));
  assert.ok(again.results.every((r: any) => r.topic === "postgres"));
  const bad = await fetch(`${server.url}/functions/v1/search`);
  assert.equal(bad.status, 400);
});
