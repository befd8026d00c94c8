import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import pg from "pg";
import { runCli, startServerProcess, type ServerProcess } from "../../../test/helpers/cli.ts";
import { createPgDatabase, dropPgDatabase } from "../../../test/helpers/db.ts";
import { DIM, embed } from "../functions/articles/embed.ts";

const here = new URL("..", import.meta.url).pathname;
let url: string;
let client: pg.Client;
let server: ServerProcess | undefined;

const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

test("the local embedder is deterministic, unit length, and puts related text closer", () => {
  const a = embed("Postgres advisory locks coordinate cron runs");
  assert.equal(a.length, DIM);
  assert.deepEqual(embed("Postgres advisory locks coordinate cron runs"), a);
  assert.ok(Math.abs(Math.hypot(...a) - 1) < 1e-9);
  assert.ok(cos(a, embed("advisory locks in Postgres")) > cos(a, embed("a recipe for sourdough bread")));
});

before(async () => {
  url = await createPgDatabase();
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(await readFile(join(here, "schema.sql"), "utf8"));
});

after(async () => {
  await server?.kill();
  await client?.end();
  if (url) await dropPgDatabase(url);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function search(q: string): Promise<{ id: string; title: string; score: number }[]> {
  const res = await fetch(`${server!.url}/functions/v1/articles?q=${encodeURIComponent(q)}`);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as { id: string; title: string; score: number }[];
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    assert.ok(Date.now() < end, `timed out: ${what}\n${server?.output().slice(-2000)}`);
    await sleep(200);
  }
}

test("README flow on a real server: rows in, searchable; edits re-embedded; deletes removed", { timeout: 120_000 }, async () => {
  const env = { DATABASE_URL: url, HANGAR_ADMIN_TOKEN: "t", HANGAR_SECRET_KEY: "k" };
  const deployed = await runCli(["deploy", "--dir", join(here, "functions")], env);
  assert.equal(deployed.code, 0, deployed.stderr);
  server = await startServerProcess(["start"], env);

  await client.query(`insert into articles (title, body) values
    ('Advisory locks', 'Postgres advisory locks coordinate cron runs across instances'),
    ('Sourdough', 'A starter, flour, water and salt make a good bread'),
    ('Vector search', 'pgvector HNSW indexes answer nearest neighbour queries')`);
  const top = await until("articles embedded", async () => {
    const hits = await search("how do postgres locks coordinate instances");
    return hits.length === 3 ? hits[0] : undefined;
  });
  assert.equal(top.title, "Advisory locks");

  await client.query("update articles set title = 'Bread baking', body = 'postgres locks coordinate instances of sourdough' where title = 'Sourdough'");
  await until("update re-embedded", async () => {
    const hits = await search("postgres locks coordinate instances of sourdough");
    return hits[0]?.title === "Bread baking" ? true : undefined;
  });

  await client.query("delete from articles where title = 'Vector search'");
  await until("delete removed", async () => ((await search("pgvector hnsw")).length === 2 ? true : undefined));

  const listed = await runCli(["events", "list", "--function", "articles", "--json"], env);
  assert.equal(listed.code, 0, listed.stderr);
  const events = (JSON.parse(listed.stdout) as { events: { op: string; status: string }[] }).events;
  assert.deepEqual(events.map((e) => e.op).sort(), ["delete", "insert", "insert", "insert", "update"]);
  assert.ok(events.every((e) => e.status === "done"), listed.stdout);
  await server.stop();
});
