import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli, startServerProcess } from "../helpers/cli.ts";
import { createPgDatabase, dropPgDatabase } from "../helpers/db.ts";

test("hangar dev serves health on the embedded database", async () => {
  const dir = await mkdtemp(join(tmpdir(), "hangar-dev-"));
  const server = await startServerProcess(["dev", "--data-dir", join(dir, ".hangar"), "--dir", join(dir, "functions")], { DATABASE_URL: "" }, { cwd: dir });
  try {
    const res = await fetch(`${server.url}/_hangar/health`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.status, "ok");
    assert.equal(body.database.kind, "pglite");
    assert.ok(body.database.migration >= 1);
    assert.ok(res.headers.get("x-request-id"));
  } finally {
    assert.equal(await server.stop(), 0);
    await rm(dir, { recursive: true, force: true });
  }
});

test("hangar start serves health on Postgres, and 503 once the database is gone", async () => {
  const url = await createPgDatabase();
  const server = await startServerProcess(["start"], { DATABASE_URL: url, HANGAR_ADMIN_TOKEN: "t", HANGAR_SECRET_KEY: "k" });
  try {
    const res = await fetch(`${server.url}/_hangar/health`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).database.kind, "postgres");
    await dropPgDatabase(url);
    const down = await fetch(`${server.url}/_hangar/health`);
    assert.equal(down.status, 503);
    assert.equal((await down.json()).database.ok, false);
  } finally {
    await server.stop();
    await dropPgDatabase(url);
  }
});

test("usage errors exit 2, missing production settings exit 2 with a reason", async () => {
  assert.equal((await runCli(["nope"])).code, 2);
  assert.equal((await runCli(["migrate", "--bogus"])).code, 2);
  const r = await runCli(["start"], { DATABASE_URL: "postgres://127.0.0.1:1/x", HANGAR_ADMIN_TOKEN: "", HANGAR_SECRET_KEY: "" });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /HANGAR_ADMIN_TOKEN is required/);
});
