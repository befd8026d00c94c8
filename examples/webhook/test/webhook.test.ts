import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import pg from "pg";
import { runCli, startServerProcess, type ServerProcess } from "../../../test/helpers/cli.ts";
import { createPgDatabase, dropPgDatabase } from "../../../test/helpers/db.ts";

const here = new URL("..", import.meta.url).pathname;
const SECRET = "whsec_test";
let url: string;
let env: Record<string, string>;
let server: ServerProcess;

before(async () => {
  url = await createPgDatabase();
  env = { DATABASE_URL: url, HANGAR_ADMIN_TOKEN: "t", HANGAR_SECRET_KEY: "k" };
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(await readFile(`${here}/schema.sql`, "utf8"));
  await client.end();
  const set = await runCli(["secrets", "set", `WEBHOOK_SECRET=${SECRET}`, "--function", "webhook"], env);
  assert.equal(set.code, 0, set.stderr);
  const deployed = await runCli(["deploy", "--dir", `${here}/functions`], env);
  assert.equal(deployed.code, 0, deployed.stderr);
  server = await startServerProcess(["start"], env);
});

after(async () => {
  await server?.kill();
  await dropPgDatabase(url);
});

function send(body: string, opts: { secret?: string; delivery?: string } = {}) {
  const sig = createHmac("sha256", opts.secret ?? SECRET).update(body).digest("hex");
  return fetch(`${server.url}/functions/v1/webhook`, {
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
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query("select delivery_id, event, payload from webhook_events");
  await client.end();
  assert.deepEqual(rows, [{ delivery_id: "d-1", event: "issues", payload: { action: "opened", number: 7 } }]);
});

test("a bad signature is refused and nothing is stored", async () => {
  const res = await send('{"x":1}', { secret: "wrong", delivery: "d-2" });
  assert.equal(res.status, 401);
  const unsigned = await fetch(`${server.url}/functions/v1/webhook`, { method: "POST", body: "{}" });
  assert.equal(unsigned.status, 401);
});
