// @both-backends
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Db } from "../../host/db/index.ts";
import { UserError } from "../../host/errors.ts";
import { dropTableTriggers, syncTableTriggers, triggerName } from "../../host/triggers/install.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let t: TestDatabase;
let db: Db;
before(async () => {
  t = await createTestDatabase();
  db = t.db;
  await db.query("create table orders (id int primary key, note text)");
  await db.query("create table lines (order_id int, n int, qty int, primary key (order_id, n))");
  await db.query("create table nokey (v text)");
  await db.query("create view orders_v as select * from orders");
});
after(() => t.close());

async function triggers(table: string): Promise<string[]> {
  const { rows } = await db.query<{ tgname: string }>(
    "select tgname from pg_trigger where tgrelid = $1::regclass and not tgisinternal order by tgname",
    [table],
  );
  return rows.map((r) => r.tgname);
}


test(`${backend}: install, change ops, move table, remove`, async () => {
  await db.transaction((tx) => syncTableTriggers(tx, "order-hook", [{ schema: "public", table: "orders", ops: ["insert"] }]));
  assert.deepEqual(await triggers("orders"), ["hangar_evt_order-hook"]);
  await db.query("insert into orders values (1, 'a')");
  await db.query("update orders set note = 'b' where id = 1");
  let { rows } = await db.query("select op from hangar.events where function_name = 'order-hook' order by id");
  assert.deepEqual(rows.map((r) => r.op), ["insert"], "only the subscribed op is captured");

  await db.transaction((tx) => syncTableTriggers(tx, "order-hook", [{ schema: "public", table: "orders", ops: ["insert", "update", "delete"] }]));
  await db.query("update orders set note = 'c' where id = 1");
  await db.query("delete from orders where id = 1");
  ({ rows } = await db.query("select op, old, new, row_key from hangar.events where function_name = 'order-hook' order by id"));
  assert.deepEqual(rows.map((r) => r.op), ["insert", "update", "delete"]);
  assert.deepEqual(rows[1].old, { id: 1, note: "b" });
  assert.deepEqual(rows[1].new, { id: 1, note: "c" });
  assert.equal(rows[2].new, null);
  assert.equal(rows[2].row_key, "[1]");

  await db.transaction((tx) => syncTableTriggers(tx, "order-hook", [{ schema: "public", table: "lines", ops: ["insert"] }]));
  assert.deepEqual(await triggers("orders"), [], "the trigger on the table it stopped watching is dropped");
  assert.deepEqual(await triggers("lines"), ["hangar_evt_order-hook"]);
  await db.query("insert into lines values (7, 2, 1)");
  ({ rows } = await db.query("select row_key from hangar.events where table_name = 'lines'"));
  assert.equal(rows[0].row_key, "[7, 2]", "composite keys in key order");

  await db.transaction((tx) => dropTableTriggers(tx, "order-hook"));
  assert.deepEqual(await triggers("lines"), []);
  const tracked = await db.query("select * from hangar.event_triggers where function_name = 'order-hook'");
  assert.equal(tracked.rowCount, 0);
});

test(`${backend}: two functions on one table each get their own event`, async () => {
  await db.transaction(async (tx) => {
    await syncTableTriggers(tx, "a", [{ schema: "public", table: "nokey", ops: ["insert"] }]);
    await syncTableTriggers(tx, "b", [{ schema: "public", table: "nokey", ops: ["insert"] }]);
  });
  await db.query("insert into nokey values ('x')");
  const { rows } = await db.query("select function_name, row_key from hangar.events where table_name = 'nokey' order by function_name");
  assert.deepEqual(rows, [{ function_name: "a", row_key: null }, { function_name: "b", row_key: null }]);
  await db.transaction(async (tx) => {
    await dropTableTriggers(tx, "a");
    await dropTableTriggers(tx, "b");
  });
});

test(`${backend}: a missing table or a view fails the deploy with the function and table named, and changes nothing`, async () => {
  await assert.rejects(
    db.transaction((tx) => syncTableTriggers(tx, "bad-fn", [{ schema: "public", table: "orders", ops: ["insert"] }, { schema: "public", table: "nope", ops: ["insert"] }])),
    (err: unknown) => err instanceof UserError && /function "bad-fn"/.test(err.message) && /"public\.nope" does not exist/.test(err.message),
  );
  assert.deepEqual(await triggers("orders"), [], "the deploy transaction rolled back");
  await assert.rejects(
    db.transaction((tx) => syncTableTriggers(tx, "bad-fn", [{ schema: "public", table: "orders_v", ops: ["insert"] }])),
    /"public\.orders_v" is not a table/,
  );
});

test(`${backend}: unquoted-style names fold to lower case; a dropped table does not block removal`, async () => {
  await db.query("create table temp_t (id int primary key)");
  await db.transaction((tx) => syncTableTriggers(tx, "folder", [{ schema: "public", table: "Temp_T", ops: ["insert"] }]));
  assert.deepEqual(await triggers("temp_t"), ["hangar_evt_folder"]);
  await db.query("drop table temp_t");
  await db.transaction((tx) => syncTableTriggers(tx, "folder", []));
  const tracked = await db.query("select * from hangar.event_triggers where function_name = 'folder'");
  assert.equal(tracked.rowCount, 0);
});

test("long function names keep distinct trigger names within 63 bytes", () => {
  const a = triggerName("a".repeat(60) + "x");
  const b = triggerName("a".repeat(60) + "y");
  assert.ok(a.length <= 63 && b.length <= 63);
  assert.notEqual(a, b);
  assert.equal(triggerName("on-signup"), "hangar_evt_on-signup");
});

test(`${backend}: a change made as the unprivileged guest role is still captured`, async () => {
  await db.query("create table guest_t (id int primary key)");
  await db.query("grant select, insert on guest_t to hangar_guest");
  await db.transaction((tx) => syncTableTriggers(tx, "guest-fn", [{ schema: "public", table: "guest_t", ops: ["insert"] }]));
  await db.transaction(async (tx) => {
    await tx.query("set local role hangar_guest");
    await tx.query("insert into guest_t values (1)");
  });
  const { rows } = await db.query("select new from hangar.events where function_name = 'guest-fn'");
  assert.deepEqual(rows.map((r) => r.new), [{ id: 1 }]);
});

test(`${backend}: missingTable "skip" installs the rest and reports the missing table`, async () => {
  await db.query("create table present_t (id int primary key)");
  const r = await db.transaction((tx) =>
    syncTableTriggers(tx, "skipper", [{ schema: "public", table: "absent_t", ops: ["insert"] }, { schema: "public", table: "present_t", ops: ["insert"] }], { missingTable: "skip" }),
  );
  assert.deepEqual(r.missing, ["public.absent_t"]);
  assert.deepEqual(await triggers("present_t"), ["hangar_evt_skipper"]);
});

test(`${backend}: one statement changing many rows records one event per row, old and new paired even when the key changes`, async () => {
  await db.query("create table bulk_t (id int primary key, v int not null)");
  await db.transaction((tx) => syncTableTriggers(tx, "bulk-fn", [{ schema: "public", table: "bulk_t", ops: ["insert", "update", "delete"] }]));
  assert.deepEqual(await triggers("bulk_t"), ["hangar_evt_bulk-fn", "hangar_evt_bulk-fn_del", "hangar_evt_bulk-fn_upd"]);
  const N = 500;
  await db.query("insert into bulk_t select g, g from generate_series(1, $1::int) g", [N]);
  // Only the even rows change, each moves to a new key: the pairs must not be shuffled.
  await db.query("update bulk_t set id = id + 10000, v = v * 2 where id % 2 = 0");
  await db.query("delete from bulk_t where id > 10000");
  await db.query("update bulk_t set v = v where false");
  const { rows } = await db.query<{ op: string; row_key: string; old: { id: number; v: number } | null; new: { id: number; v: number } | null }>(
    "select op, row_key, old, new from hangar.events where function_name = 'bulk-fn' order by id",
  );
  const by = (op: string) => rows.filter((r) => r.op === op);
  assert.equal(by("insert").length, N);
  assert.ok(by("insert").every((r) => r.old === null && r.row_key === `[${r.new!.id}]`));
  assert.equal(by("update").length, N / 2, "a statement changing no row records nothing");
  for (const r of by("update")) {
    assert.equal(r.new!.id, r.old!.id + 10000, `update pairs ${JSON.stringify(r)}`);
    assert.equal(r.new!.v, r.old!.v * 2);
    assert.equal(r.row_key, `[${r.new!.id}]`, "keyed by the new row, as a row trigger did");
  }
  assert.equal(by("delete").length, N / 2);
  assert.ok(by("delete").every((r) => r.new === null && r.row_key === `[${r.old!.id}]`));
  // Dropping one operation drops just its trigger.
  await db.transaction((tx) => syncTableTriggers(tx, "bulk-fn", [{ schema: "public", table: "bulk_t", ops: ["update"] }]));
  assert.deepEqual(await triggers("bulk_t"), ["hangar_evt_bulk-fn_upd"]);
  await db.transaction((tx) => dropTableTriggers(tx, "bulk-fn"));
  assert.deepEqual(await triggers("bulk_t"), []);
});

test(`${backend}: a row-level trigger from before statement capture is replaced on the next deploy`, async () => {
  await db.query("create table legacy_t (id int primary key)");
  await db.query("create trigger \"hangar_evt_legacy-fn\" after insert or update on legacy_t for each row execute function hangar.capture_event('legacy-fn')");
  await db.query("insert into hangar.event_triggers (function_name, schema_name, table_name, trigger_name, ops) values ('legacy-fn', 'public', 'legacy_t', 'hangar_evt_legacy-fn', '{insert,update}')");
  await db.transaction((tx) => syncTableTriggers(tx, "legacy-fn", [{ schema: "public", table: "legacy_t", ops: ["update"] }]));
  const { rows } = await db.query<{ tgname: string; row: boolean }>(
    "select tgname, (tgtype & 1) = 1 as row from pg_trigger where tgrelid = 'legacy_t'::regclass and not tgisinternal",
  );
  assert.deepEqual(rows, [{ tgname: "hangar_evt_legacy-fn_upd", row: false }]);
  await db.query("insert into legacy_t values (1)");
  await db.query("update legacy_t set id = 2");
  const ev = await db.query("select op from hangar.events where function_name = 'legacy-fn'");
  assert.deepEqual(ev.rows, [{ op: "update" }], "exactly one capture per change, by the new trigger");
  await db.transaction((tx) => dropTableTriggers(tx, "legacy-fn"));
});
