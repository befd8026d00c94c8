// @both-backends
// Host statements prepared once per session (wire.ts): a named step that fails
// in the query that parsed it leaves the session usable under that name,
// whether its Parse failed (no statement was made) or what came after it did
// (the statement exists).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import type { Db } from "../../../host/db/index.ts";
import { forgetPrepared, GUEST_CAP, GUEST_TEXT_MAX, guestStatementName, isPrepared, isWireClient, runSteps, type StepError } from "../../../host/bindings/sql/wire.ts";
import { backend, createTestDatabase, type TestDatabase } from "../../helpers/db.ts";

let t: TestDatabase;
let db: Db;
before(async () => {
  t = await createTestDatabase();
  db = t.db;
});
after(() => t.close());

test(`${backend}: a named step whose Parse or Execute failed runs again under the same name on the same session`, async () => {
  const guest = db.guest({ functionName: "wire-test", invocationId: "1" });
  try {
    await guest.withClient(async (s) => {
      assert.ok(isWireClient(s));
      // the Parse fails: the table does not exist yet, so no statement is made under the name
      const later = { name: "hangar_test_later", text: "select count(*)::int as n from wire_later", rows: { max: 10 } };
      await assert.rejects(runSteps(s, [later]), (e: StepError) => e.code === "42P01" && e.step === 0);
      assert.equal(isPrepared(s, later.name), false);
      await s.query("create table wire_later (x int)"); // on this session: PGlite has only the one
      const [made] = await runSteps(s, [later]);
      assert.deepEqual(made.rows, [{ n: 0 }], "parsed again, not bound to a statement that was never made");
      assert.equal(isPrepared(s, later.name), true);
      const [again] = await runSteps(s, [later]);
      assert.deepEqual(again.rows, [{ n: 0 }]);

      // the Parse succeeds and the execution fails: the statement exists, and is closed before it is parsed again
      const div = (by: number) => ({ name: "hangar_test_div", text: "select 6 / $1::int as v", values: [by], rows: { max: 1 } });
      await assert.rejects(runSteps(s, [{ text: "select 1" }, div(0)]), (e: StepError) => e.code === "22012" && e.step === 1);
      const [, ok] = await runSteps(s, [{ text: "select 1" }, div(2)]);
      assert.deepEqual(ok.rows, [{ v: 3 }], "no 42P05: the name was closed first");
      const [ok2] = await runSteps(s, [div(3)]);
      assert.deepEqual(ok2.rows, [{ v: 2 }]);
    });
  } finally {
    await guest.close();
    await db.query("drop table if exists wire_later");
  }
});

test(`${backend}: guest texts are prepared per session up to GUEST_CAP, the least recently used closed to make room`, async () => {
  const guest = db.guest({ functionName: "wire-test", invocationId: "2" });
  try {
    await guest.withClient(async (s) => {
      assert.ok(isWireClient(s));
      const text = (i: number) => `select ${i} as v`;
      const run = async (i: number) => (await runSteps(s, [{ text: text(i), cache: true, rows: { max: 1 } }]))[0].rows;
      const count = async () => (await s.query<{ n: number }>("select count(*)::int as n from pg_catalog.pg_prepared_statements where name like 'hangar_g%'")).rows[0].n;
      const before = await count();
      assert.deepEqual(await run(0), [{ v: 0 }]);
      const first = guestStatementName(s, text(0));
      assert.ok(first, "prepared under a name");
      assert.deepEqual(await run(0), [{ v: 0 }]);
      assert.equal(guestStatementName(s, text(0)), first, "the same name the second time");
      for (let i = 1; i < GUEST_CAP + 5; i++) {
        await run(i);
        if (i % 4 === 0) await run(1); // text 1 stays in use
      }
      assert.equal(await count(), Math.min(before + GUEST_CAP + 1, GUEST_CAP), "no more than GUEST_CAP on the session");
      assert.equal(guestStatementName(s, text(0)), undefined, "the least recently used is gone");
      assert.ok(guestStatementName(s, text(1)), "a text in use is kept");
      assert.deepEqual(await run(0), [{ v: 0 }], "and is prepared again when it comes back");

      // a long text is not kept (the session's names hold their texts)
      const long = `select 1 as v -- ${"x".repeat(GUEST_TEXT_MAX)}`;
      assert.deepEqual((await runSteps(s, [{ text: long, cache: true, rows: { max: 1 } }]))[0].rows, [{ v: 1 }]);
      assert.equal(guestStatementName(s, long), undefined);

      // a guest statement that fails is parsed again on its next use, whichever way it failed
      await assert.rejects(runSteps(s, [{ text: "select 1 / $1::int as v", values: [0], cache: true, rows: { max: 1 } }]), (e: StepError) => e.code === "22012");
      assert.equal(guestStatementName(s, "select 1 / $1::int as v"), undefined);
      assert.deepEqual((await runSteps(s, [{ text: "select 1 / $1::int as v", values: [1], cache: true, rows: { max: 1 } }]))[0].rows, [{ v: 1 }]);
      // a name means one text on every session: the hash of the text
      assert.equal(guestStatementName(s, text(1)), `hangar_g_${createHash("sha256").update(text(1)).digest("hex").slice(0, 32)}`);

      // a statement of that name the session holds without knowing (made by another client through a pooler in
      // transaction mode): the Parse fails once (42P05), then every name is closed and parsed again
      const other = "select 7 as v";
      const name = `hangar_g_${createHash("sha256").update(other).digest("hex").slice(0, 32)}`;
      await s.query(`prepare ${name} as select 7 as v`);
      await assert.rejects(runSteps(s, [{ text: other, cache: true, rows: { max: 1 } }]), (e: StepError) => e.code === "42P05");
      assert.deepEqual((await runSteps(s, [{ text: other, cache: true, rows: { max: 1 } }]))[0].rows, [{ v: 7 }]);
      assert.deepEqual(await run(1), [{ v: 1 }], "names known before are made again too");

      await s.query("deallocate all");
      forgetPrepared(s);
    });
  } finally {
    await guest.close();
  }
});
