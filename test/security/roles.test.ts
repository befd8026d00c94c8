// @both-backends
// A function's database role must be an ordinary one: refused at deploy
// (naming the function, config.role and the reason) and again when the sql
// binding switches to it (a role altered after deploy).
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ADMIN_OPS } from "../../host/server/admin-ops.ts";
import { bundleFunction } from "../../host/build/index.ts";
import { assertFunctionRole, createSqlBindings } from "../../host/bindings/sql/index.ts";
import { resolveConfig } from "../../host/config/index.ts";
import type { HostCallInfo } from "../../runtime/types.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let t: TestDatabase;
let dir: string;
const info: HostCallInfo = { requestId: "req-roles", signal: new AbortController().signal };
const suffix = Math.random().toString(36).slice(2, 8);
const r = (n: string) => `hsec_${n}_${suffix}`;

before(async () => {
  t = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), "hangar-roles-"));
  const host = (await t.db.query<{ u: string }>("select session_user::text as u", [])).rows[0].u;
  for (const [name, attrs] of [
    ["plain", "nologin"],
    ["bypass", "nologin bypassrls"],
    ["creator", "nologin createrole"],
    ["repl", "nologin replication"],
    ["files", "nologin"],
    ["hostmember", "nologin"],
    ["alterable", "nologin"],
  ]) {
    await t.db.query(`create role ${r(name)} ${attrs}`);
  }
  await t.db.query(`grant pg_read_server_files to ${r("files")}`);
  await t.db.query(`grant ${host} to ${r("hostmember")}`);
  await t.db.query(`grant ${r("plain")}, ${r("alterable")} to ${host}`).catch(() => {});
});
after(async () => {
  for (const n of ["plain", "bypass", "creator", "repl", "files", "hostmember", "alterable"]) {
    await t.db.query(`drop owned by ${r(n)}`).catch(() => {});
    await t.db.query(`drop role if exists ${r(n)}`).catch(() => {});
  }
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

const refused = (role: string, why: RegExp, allowed?: string[]) =>
  assert.rejects(
    t.db.transaction((tx) => assertFunctionRole(tx, "fn-x", role, allowed ?? [role])),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, "BAD_ROLE");
      assert.match(e.message, /^function "fn-x": config\.role: /);
      assert.match(e.message, why);
      return true;
    },
  );

test(`${backend}: privileged roles are refused at deploy with the reason`, async () => {
  await refused("postgres", /host's own role|superuser/);
  await refused(r("bypass"), /BYPASSRLS/);
  await refused(r("creator"), /CREATEROLE/);
  await refused(r("repl"), /REPLICATION/);
  await refused(r("files"), /member of "pg_read_server_files"/);
  await refused(r("hostmember"), /member of "/);
  await refused("no_such_role_here", /does not exist/);
  await refused(r("plain"), /not in HANGAR_FUNCTION_ROLES/, ["hangar_guest"]);
  // The default allow-list is hangar_guest alone, which passes.
  await t.db.transaction((tx) => assertFunctionRole(tx, "fn-x", null, undefined));
  await t.db.transaction((tx) => assertFunctionRole(tx, "fn-x", r("plain"), ["hangar_guest", r("plain")]));
});

test(`${backend}: functions.deploy refuses config.role "postgres" and stores nothing`, async () => {
  const file = join(dir, "evil.ts");
  await writeFile(file, `export const config = { role: "postgres" };\nexport default { fetch() { return new Response("x"); } };\n`);
  const bundle = await bundleFunction(file, { cwd: dir });
  const config = resolveConfig("cli", {}, {});
  await assert.rejects(
    ADMIN_OPS["functions.deploy"]({ db: t.db, config, actor: "test" }, { name: "evil", code: bundle.code, map: bundle.map, hash: bundle.hash }),
    /function "evil": config\.role: role "postgres" is not in HANGAR_FUNCTION_ROLES/,
  );
  const withRole = { ...config, functionRoles: ["hangar_guest", "postgres"] };
  await assert.rejects(
    ADMIN_OPS["functions.deploy"]({ db: t.db, config: withRole, actor: "test" }, { name: "evil", code: bundle.code, map: bundle.map, hash: bundle.hash }),
    /function "evil": config\.role: role "postgres" is (the host's own role|a superuser)/,
  );
  const { rows } = await t.db.query("select 1 from hangar.versions where function_name = 'evil'", []);
  assert.equal(rows.length, 0);
});

test(`${backend}: the sql binding refuses a role outside the allow-list and one altered after deploy`, async () => {
  const run = async (role: string, allowed: string[]) => {
    const b = createSqlBindings({ db: t.db, role, allowedRoles: allowed });
    try {
      return await b.functions["sql.query"](["select current_user::text as u", []], info);
    } finally {
      await b.close();
    }
  };
  await assert.rejects(run("postgres", ["hangar_guest"]), (e: Error & { code?: string }) => e.code === "42501" && /not in HANGAR_FUNCTION_ROLES/.test(e.message));
  await assert.rejects(run("postgres", ["postgres"]), (e: Error & { code?: string }) => e.code === "42501" && /host's own role|superuser/.test(e.message));
  assert.deepEqual(await run(r("alterable"), [r("alterable")]), [{ u: r("alterable") }]);
  await t.db.query(`alter role ${r("alterable")} bypassrls`);
  // Remembered briefly (seconds): wait for the binding to notice.
  const end = Date.now() + 15_000;
  for (;;) {
    const err = await run(r("alterable"), [r("alterable")]).then(() => null, (e: Error) => e);
    if (err) {
      assert.match(err.message, /BYPASSRLS/);
      break;
    }
    if (Date.now() > end) assert.fail("the altered role was never refused");
    await new Promise((res) => setTimeout(res, 250));
  }
});
