// @both-backends
// hangar dev's watcher for tables a function watches that did not exist at its deploy (host/dev/pending-tables.ts):
// it installs the triggers once the table is there, and never those of a version that is no longer active (a
// delete or a deploy may commit between its read of the functions and its install).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import { deleteFunction } from "../../host/admin/delete-function.ts";
import { validateConfig } from "../../host/build/index.ts";
import { watchPendingTables } from "../../host/dev/pending-tables.ts";
import { deployVersion, type ActiveFunction } from "../../host/registry/index.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let t: TestDatabase;
before(async () => {
  t = await createTestDatabase();
});
after(() => t.close());

/** Run the watcher over `fns` until it has finished `ticks` ticks (each tick reads the functions once, after the last one ended). */
async function watch(fns: ActiveFunction[], ticks: number): Promise<string[]> {
  const said: string[] = [];
  let reads = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const stop = watchPendingTables(t.db, () => {
    if (++reads > ticks) done();
    return reads > ticks ? [] : fns;
  }, (line) => said.push(line), 10);
  await finished;
  stop();
  return said;
}

const triggers = async () => (await t.db.query("select tgname from pg_catalog.pg_trigger where tgrelid = 'public.pending_rows'::regclass and not tgisinternal")).rows;

test(`${backend}: a table that appears gets the active version's trigger; a deleted function's never comes back`, async () => {
  const code = "/* watcher */";
  const config = validateConfig("watcher", { events: ["public.pending_rows:insert"] });
  const r = await deployVersion(t.db, { name: "watcher", code, map: null, hash: createHash("sha256").update(code).digest("hex"), config, actor: "test" }, undefined, { missingTables: "skip" });
  const fn: ActiveFunction = { name: "watcher", versionId: r.versionId, version: r.version, hash: r.hash, config };
  await t.db.query("create table public.pending_rows (id int primary key)");
  await t.db.query("grant select on public.pending_rows to hangar_guest");
  try {
    assert.deepEqual(await watch([fn], 2), ["✓ watcher: now watching public.pending_rows"]);
    assert.equal((await triggers()).length, 1);

    await deleteFunction(t.db, "watcher");
    assert.equal((await triggers()).length, 0);
    // the registry's list read before the delete still holds the function: its trigger is not made again
    assert.deepEqual(await watch([fn], 2), []);
    assert.equal((await triggers()).length, 0);
    assert.deepEqual((await t.db.query("select 1 from hangar.event_triggers where function_name = 'watcher'")).rows, []);
  } finally {
    await t.db.query("drop table if exists public.pending_rows");
  }
});
