// Run with: node --import tsx --test examples/table-pipeline/test/pipeline.test.ts
// (an in-memory embedded Postgres, or DATABASE_URL when set).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createTestHangar, type TestHangar } from "hangar/testing";
import { DIM, embed } from "../functions/articles/embed.ts";

const here = new URL("..", import.meta.url).pathname;
let h: TestHangar;

const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

test("the local embedder is deterministic, unit length, and puts related text closer", () => {
  const a = embed("Postgres advisory locks coordinate cron runs");
  assert.equal(a.length, DIM);
  assert.deepEqual(embed("Postgres advisory locks coordinate cron runs"), a);
  assert.ok(Math.abs(Math.hypot(...a) - 1) < 1e-9);
  assert.ok(cos(a, embed("advisory locks in Postgres")) > cos(a, embed("a recipe for sourdough bread")));
});

before(async () => {
  // The deploy runs functions/articles/schema.sql, so public.articles exists and is watched.
  h = await createTestHangar({ dir: `${here}/functions` });
  // A DATABASE_URL may be reused between runs: start from an empty table.
  await h.sql("truncate public.articles");
});

after(() => h?.close());

async function search(q: string): Promise<{ id: string; title: string; score: number }[]> {
  const res = await h.fetch(`/functions/v1/articles?q=${encodeURIComponent(q)}`);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as { id: string; title: string; score: number }[];
}

test("rows in become searchable; edits are re-embedded; deletes removed", { timeout: 120_000 }, async () => {
  await h.sql(`insert into articles (title, body) values
    ('Advisory locks', 'Postgres advisory locks coordinate cron runs across instances'),
    ('Sourdough', 'A starter, flour, water and salt make a good bread'),
    ('Vector search', 'pgvector HNSW indexes answer nearest neighbour queries')`);
  const top = await h.until(async () => {
    const hits = await search("how do postgres locks coordinate instances");
    return hits.length === 3 && hits[0];
  }, 60_000);
  assert.equal(top.title, "Advisory locks");

  await h.sql("update articles set title = 'Bread baking', body = 'postgres locks coordinate instances of sourdough' where title = 'Sourdough'");
  await h.until(async () => (await search("postgres locks coordinate instances of sourdough"))[0]?.title === "Bread baking", 60_000);

  await h.sql("delete from articles where title = 'Vector search'");
  await h.until(async () => (await search("pgvector hnsw")).length === 2, 60_000);

  // every change was delivered and handled
  const events = await h.until(async () => {
    const rows = await h.sql<{ op: string; status: string }>("select op, status from hangar.events where function_name = 'articles' order by id");
    return rows.length === 5 && rows.every((e) => e.status === "done") && rows;
  }, 60_000);
  assert.deepEqual(events.map((e) => e.op).sort(), ["delete", "insert", "insert", "insert", "update"]);
  assert.deepEqual(h.logs("articles").filter((l) => /error/i.test(l)), []);
});
