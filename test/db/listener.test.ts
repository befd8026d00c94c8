import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let t: TestDatabase;
before(async () => {
  t = await createTestDatabase();
});
after(() => t.close());

test("the LISTEN session comes back after pg_terminate_backend and tells subscribers to catch up", async () => {
  const got: string[] = [];
  let reconnects = 0;
  t.db.onReconnect(() => reconnects++);
  await t.db.listen("hangar_test", (p) => got.push(p));
  const admin = new pg.Client({ connectionString: t.url! });
  await admin.connect();
  try {
    const killed = await admin.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name like '%:listen'",
    );
    assert.equal(killed.rowCount, 1);
    for (let i = 0; i < 800 && reconnects === 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(reconnects, 1, "reconnected");
    await admin.query("select pg_notify('hangar_test', 'after')");
    for (let i = 0; i < 1000 && !got.length; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, ["after"]);
  } finally {
    await admin.end();
  }
});
