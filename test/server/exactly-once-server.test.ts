// @both-backends
// An exactly-once table-event function run by a real server: the invoker
// loads its bundle, secrets and env while the dispatcher holds the claim's
// session (on PGlite the only session there is). It must not deadlock, and the
// handler's SQL commits once, with the claim.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setSecret } from "../../host/secrets/index.ts";
import type { HangarServer } from "../../host/server/index.ts";
import { devConfig, serveDeployed } from "../helpers/server.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { waitFor } from "../triggers/helpers.ts";

let t: TestDatabase;
let dir: string;
let server: HangarServer;

before(async () => {
  t = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), "hangar-eo-"));
  await t.db.query("create table eo_orders (id int primary key, amount int not null)");
  await t.db.query("create table eo_ledger (order_id int not null, amount int not null, region text not null)");
  await t.db.query("grant select on eo_orders to hangar_guest; grant insert, select on eo_ledger to hangar_guest");
  await writeFile(join(dir, "book.ts"), `import { sql } from "hangar";
export const config = { events: ["public.eo_orders:insert"], delivery: "exactly-once" };
export default {
  async event(e: { new: { id: number; amount: number } }) {
    await sql\`insert into eo_ledger values (\${e.new.id}, \${e.new.amount}, \${Deno.env.get("REGION") ?? "none"})\`;
  },
};`);
  const config = devConfig(dir);
  await setSecret(t.db, config.secretKey!, { name: "REGION", value: "eu" });
  server = await serveDeployed(config, t.db);
});

after(async () => {
  await server?.close();
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

test(`${backend}: an exactly-once handler using SQL and a secret runs once per row through the real invoker`, { timeout: 120_000 }, async () => {
  await t.db.query("insert into eo_orders select g, g * 10 from generate_series(1, 6) g");
  await waitFor(async () => (await t.db.query("select 1 from hangar.events where function_name = 'book' and status = 'done'")).rowCount === 6, 60_000, "6 events done");
  const { rows } = await t.db.query<{ n: string; total: string; regions: string }>(
    "select count(*) n, sum(amount) total, string_agg(distinct region, ',') regions from eo_ledger");
  assert.deepEqual({ ...rows[0], n: Number(rows[0].n), total: Number(rows[0].total) }, { n: 6, total: 210, regions: "eu" });
  const dupes = await t.db.query("select order_id from eo_ledger group by order_id having count(*) > 1");
  assert.equal(dupes.rowCount, 0, "each effect once");
});
