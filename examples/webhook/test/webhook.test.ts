// Run with: node --import tsx --test examples/webhook/test/webhook.test.ts
// (an in-memory embedded Postgres, or DATABASE_URL when set).
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { createTestHangar, type TestHangar } from "hangar/testing";

const here = new URL("..", import.meta.url).pathname;
const SECRET = "whsec_test";
let h: TestHangar;

before(async () => {
  // The secret as `hangar secrets set WEBHOOK_SECRET=... --function webhook` would give it.
  h = await createTestHangar({ dir: `${here}/functions`, env: { WEBHOOK_SECRET: SECRET } });
  // A DATABASE_URL may be reused between runs: start from an empty schema.
  await h.sql("drop table if exists webhook_events");
  await h.sql(await readFile(`${here}/schema.sql`, "utf8"));
});

after(() => h?.close());

function send(body: string, opts: { secret?: string; delivery?: string } = {}) {
  const sig = createHmac("sha256", opts.secret ?? SECRET).update(body).digest("hex");
  return h.fetch("/functions/v1/webhook", {
    method: "POST",
    headers: { "x-hub-signature-256": `sha256=${sig}`, "x-delivery-id": opts.delivery ?? "d-1", "x-event": "issues" },
    body,
  });
}

test("a signed delivery is stored once; its retry is a duplicate", async () => {
  const body = JSON.stringify({ action: "opened", number: 7 });
  const first = await send(body);
  assert.equal(first.status, 201);
  assert.deepEqual(await first.json(), { stored: true, duplicate: false, delivery: "d-1" });
  const retry = await send(body);
  assert.equal(retry.status, 200);
  assert.equal((await retry.json()).duplicate, true);
  const rows = await h.sql("select delivery_id, event, payload from webhook_events");
  assert.deepEqual(rows, [{ delivery_id: "d-1", event: "issues", payload: { action: "opened", number: 7 } }]);
});

test("a bad signature is refused and nothing is stored", async () => {
  const res = await send('{"x":1}', { secret: "wrong", delivery: "d-2" });
  assert.equal(res.status, 401);
  const unsigned = await h.fetch("/functions/v1/webhook", { method: "POST", body: "{}" });
  assert.equal(unsigned.status, 401);
  assert.deepEqual(await h.sql("select 1 from webhook_events where delivery_id = 'd-2'"), []);
});
