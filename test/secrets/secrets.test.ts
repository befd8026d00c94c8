// @both-backends
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Db } from "../../host/db/index.ts";
import { PostgresDb } from "../../host/db/postgres.ts";
import { decryptSecret, encryptSecret, listSecrets, loadEnv, SecretsCache, setSecret, unsetSecret } from "../../host/secrets/index.ts";
import { secretOps } from "../../host/secrets/admin.ts";
import { resolveConfig } from "../../host/config/index.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";

const KEY = "correct horse battery staple";
let t: TestDatabase;
let db: Db;
before(async () => {
  t = await createTestDatabase();
  db = t.db;
});
after(() => t.close());

async function eventually(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

test("encrypt/decrypt round trip; random IV; wrong key and moved rows fail clearly", () => {
  const a = encryptSecret(KEY, "", "TOKEN", "s3cret ✓");
  const b = encryptSecret(KEY, "", "TOKEN", "s3cret ✓");
  assert.notDeepEqual(a, b);
  assert.ok(!a.includes(Buffer.from("s3cret")));
  assert.equal(decryptSecret(KEY, "", "TOKEN", a), "s3cret ✓");
  assert.throws(() => decryptSecret("another key", "", "TOKEN", a), (e: any) => e.code === "SECRET_DECRYPT" && /HANGAR_SECRET_KEY is not the key/.test(e.message) && /TOKEN/.test(e.message));
  assert.throws(() => decryptSecret(KEY, "billing", "TOKEN", a), (e: any) => e.code === "SECRET_DECRYPT");
  assert.throws(() => decryptSecret(KEY, "", "OTHER", a), (e: any) => e.code === "SECRET_DECRYPT");
  const tampered = Buffer.from(a);
  tampered[tampered.length - 1] ^= 1;
  assert.throws(() => decryptSecret(KEY, "", "TOKEN", tampered), (e: any) => e.code === "SECRET_DECRYPT");
  assert.throws(() => encryptSecret("", "", "X", "v"), (e: any) => e.code === "SECRET_KEY_MISSING");
});

test(`${backend}: stored encrypted; env overlays function secrets on globals; list never shows values`, async () => {
  await setSecret(db, KEY, { name: "API_KEY", value: "global-value" });
  await setSecret(db, KEY, { name: "REGION", value: "eu" });
  await setSecret(db, KEY, { name: "API_KEY", value: "billing-value", scope: "billing" });
  const { rows } = await db.query<{ ciphertext: Uint8Array }>("select ciphertext from hangar.secrets");
  for (const r of rows) assert.ok(!Buffer.from(r.ciphertext).toString("latin1").includes("value"));
  assert.deepEqual(await loadEnv(db, KEY, "billing"), { API_KEY: "billing-value", REGION: "eu" });
  assert.deepEqual(await loadEnv(db, KEY, "other"), { API_KEY: "global-value", REGION: "eu" });
  await assert.rejects(loadEnv(db, "wrong key", "billing"), (e: any) => e.code === "SECRET_DECRYPT");
  const listed = await listSecrets(db, { scope: "billing" });
  assert.deepEqual(listed.map((s) => [s.function, s.name]), [[null, "API_KEY"], [null, "REGION"], ["billing", "API_KEY"]]);
  assert.ok(!JSON.stringify(listed).includes("value"));
  assert.equal(await unsetSecret(db, { name: "REGION" }), true);
  assert.equal(await unsetSecret(db, { name: "REGION" }), false);
  await assert.rejects(setSecret(db, KEY, { name: "BAD-NAME", value: "x" }), (e: any) => e.code === "SECRET_INVALID");
  await assert.rejects(setSecret(db, KEY, { name: "OK", value: "x", scope: "Bad Fn" }), (e: any) => e.code === "SECRET_INVALID");
});

test(`${backend}: admin ops set, list (no values), unset`, async () => {
  const ctx = { db, config: { ...resolveConfig("cli", {}, {}), secretKey: KEY }, actor: "test" };
  const set = (await secretOps["secrets.set"](ctx, { name: "WEBHOOK_SECRET", value: "whsec_123", function: "hooks" })) as any;
  assert.equal(set.name, "WEBHOOK_SECRET");
  assert.equal(set.function, "hooks");
  const listed = await secretOps["secrets.list"](ctx, { function: "hooks" });
  assert.ok(JSON.stringify(listed).includes("WEBHOOK_SECRET"));
  assert.ok(!JSON.stringify(listed).includes("whsec_123"));
  await secretOps["secrets.unset"](ctx, { name: "WEBHOOK_SECRET", function: "hooks" });
  await assert.rejects(secretOps["secrets.unset"](ctx, { name: "WEBHOOK_SECRET", function: "hooks" }), (e: any) => e.status === 404);
  await assert.rejects(secretOps["secrets.set"](ctx, { name: "1BAD", value: "x" }), (e: any) => e.status === 400);
  await assert.rejects(secretOps["secrets.set"]({ ...ctx, config: { ...ctx.config, secretKey: null } }, { name: "A", value: "x" }), /HANGAR_SECRET_KEY/);
});

test(`${backend}: SecretsCache serves a change without a redeploy (NOTIFY${backend === "postgres" ? ", across two Db handles" : ""})`, async () => {
  const other: Db = backend === "postgres" ? new PostgresDb({ url: t.url!, applicationName: "hangar-test-2", max: 2 }) : db;
  const cache = new SecretsCache({ db: other, key: KEY, ttlMs: 60_000 });
  try {
    await cache.start();
    await setSecret(db, KEY, { name: "COLOUR", value: "red", scope: "paint" });
    const red = await cache.envFor("paint");
    assert.equal(red.COLOUR, "red");
    // one frozen object per function while its secrets are unchanged (handlers see the same env, as on Workers)
    assert.ok(Object.isFrozen(red));
    await eventually(async () => (await cache.envFor("paint")) === (await cache.envFor("paint")));
    await setSecret(db, KEY, { name: "COLOUR", value: "blue", scope: "paint" });
    await eventually(async () => (await cache.envFor("paint")).COLOUR === "blue");
    assert.equal(red.COLOUR, "red");
    await setSecret(db, KEY, { name: "SHARED", value: "1" });
    await eventually(async () => (await cache.envFor("paint")).SHARED === "1");
    await unsetSecret(db, { name: "COLOUR", scope: "paint" });
    await eventually(async () => !("COLOUR" in (await cache.envFor("paint"))));
  } finally {
    await cache.close();
    await cache.close();
    if (other !== db) await other.close();
  }
});

test(`${backend}: SecretsCache TTL reloads when a notification was missed`, async () => {
  let now = 0;
  const cache = new SecretsCache({ db, key: KEY, ttlMs: 1000, now: () => now });
  await setSecret(db, KEY, { name: "TTL", value: "a", scope: "ttl" });
  assert.equal((await cache.envFor("ttl")).TTL, "a");
  await setSecret(db, KEY, { name: "TTL", value: "b", scope: "ttl" });
  assert.equal((await cache.envFor("ttl")).TTL, "a");
  now = 1001;
  assert.equal((await cache.envFor("ttl")).TTL, "b");
  await cache.close();
});
