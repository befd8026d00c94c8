// The README's ingest and query calls, and functions/search seeding itself on
// first call, through hangar/testing as a user's own test would run them:
// node --import tsx --test examples/semantic-search/semantic-search.test.ts
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { createTestHangar, type TestHangar } from "hangar/testing";

const EXAMPLE = fileURLToPath(new URL("./functions", import.meta.url));
const SEARCH = fileURLToPath(new URL("../../functions", import.meta.url));
// Each on its own database (an in-memory embedded Postgres, or DATABASE_URL when set).
let example: TestHangar;
let shipped: TestHangar;

before(async () => {
  example = await createTestHangar({ dir: EXAMPLE });
  shipped = await createTestHangar({ dir: SEARCH, only: ["search"] });
});

after(async () => {
  await example?.close();
  await shipped?.close();
});

async function json(res: Response): Promise<any> {
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text);
}

test("ingest then query, nearest first, with a metadata filter", async () => {
  const ingest = await example.fetch("/functions/v1/ingest", {
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
  const q = await json(await example.fetch(`/functions/v1/query?q=database&k=1`));
  assert.equal(q.results[0].id, "1");
  const de = await json(await example.fetch(`/functions/v1/query?q=database&lang=de`));
  assert.deepEqual(de.results.map((h: any) => h.id), ["3"]);
});

test("functions/search seeds its corpus on first call and ranks by meaning", async () => {
  const body = await json(await shipped.fetch(`/functions/v1/search?q=${encodeURIComponent("bread yeast")}&k=3`));
  assert.equal(body.results.length, 3);
  assert.equal(body.results[0].title, "Sourdough bread");
  const again = await json(await shipped.fetch(`/functions/v1/search?q=notifications&topic=postgres&k=2`));
  assert.ok(again.results.every((r: any) => r.topic === "postgres"));
  const bad = await shipped.fetch("/functions/v1/search");
  assert.equal(bad.status, 400);
});
