import assert from "node:assert/strict";
import { cp, mkdtemp, appendFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import pg from "pg";
import { migrate, migrationFiles } from "../../host/db/index.ts";
import { SQL_DIR } from "../../host/db/migrate.ts";
import { PostgresDb } from "../../host/db/postgres.ts";
import { runCli } from "../helpers/cli.ts";
import { createPgDatabase, dropPgDatabase } from "../helpers/db.ts";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup) await c();
});

test("8 processes migrating one empty database at once all succeed, each migration applied once", async () => {
  const url = await createPgDatabase({ empty: true });
  cleanup.push(() => dropPgDatabase(url));
  const results = await Promise.all(Array.from({ length: 8 }, () => runCli(["migrate"], { DATABASE_URL: url })));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const appliedBy = results.filter((r) => r.stdout.startsWith("applied"));
  assert.equal(appliedBy.length, 1, "exactly one process applies the migrations");
  assert.equal(results.filter((r) => r.stdout.startsWith("up to date")).length, 7);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query("select id, count(*)::int as n from hangar.migrations group by id order by id");
  await client.end();
  const files = await migrationFiles();
  assert.deepEqual(rows.map((r) => r.id), files.map((f) => f.id));
  assert.ok(rows.every((r) => r.n === 1));
});

test("hangar migrate twice is a no-op the second time", async () => {
  const url = await createPgDatabase({ empty: true });
  cleanup.push(() => dropPgDatabase(url));
  const first = await runCli(["migrate"], { DATABASE_URL: url });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^applied 0001_core\.sql/);
  const second = await runCli(["migrate"], { DATABASE_URL: url });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^up to date at version \d+/);
});

test("an edited applied migration is refused with a message naming the file", async () => {
  const url = await createPgDatabase({ empty: true });
  const dir = await mkdtemp(join(tmpdir(), "hangar-sql-"));
  await cp(SQL_DIR, dir, { recursive: true });
  const db = new PostgresDb({ url, applicationName: "test" });
  cleanup.push(async () => {
    await db.close();
    await dropPgDatabase(url);
    await rm(dir, { recursive: true, force: true });
  });
  await migrate(db, dir);
  await appendFile(join(dir, "0001_core.sql"), "\n-- sneaky edit\n");
  await assert.rejects(migrate(db, dir), (err: Error) => {
    assert.match(err.message, /sql\/0001_core\.sql was edited after it was applied/);
    return true;
  });
});

test("a migration that fails rolls back whole and names its file", async () => {
  const url = await createPgDatabase({ empty: true });
  const dir = await mkdtemp(join(tmpdir(), "hangar-sql-"));
  await cp(SQL_DIR, dir, { recursive: true });
  await appendFile(join(dir, "9999_broken.sql"), "create table hangar.ok_table (id int);\nselect * from no_such_table;\n");
  const db = new PostgresDb({ url, applicationName: "test" });
  cleanup.push(async () => {
    await db.close();
    await dropPgDatabase(url);
    await rm(dir, { recursive: true, force: true });
  });
  await assert.rejects(migrate(db, dir), /sql\/9999_broken\.sql: relation "no_such_table" does not exist/);
  const { rows } = await db.query("select to_regclass('hangar.functions') as t");
  assert.equal(rows[0].t, null, "nothing of the failed run stays");
});
