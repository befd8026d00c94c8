// @both-backends
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import { HostBindingError, type HostCallInfo } from "../../../runtime/types.ts";
import type { Db } from "../../../host/db/index.ts";
import { createSqlBindings, type SqlBindingOptions } from "../../../host/bindings/sql/index.ts";
import { backend, createTestDatabase, type TestDatabase } from "../../helpers/db.ts";

let t: TestDatabase;
let db: Db;
const info: HostCallInfo = { requestId: "req-test", signal: new AbortController().signal };

before(async () => {
  t = await createTestDatabase();
  db = t.db;
  await db.query(`create table notes (id serial primary key, owner text not null, body text)`);
  await db.query(`create table kinds (i int8, n numeric, at timestamptz, b bytea, j jsonb, arr int8[], ok boolean)`);
  await db.query(`alter table notes enable row level security`);
  await db.query(`create policy own on notes using (owner = (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'))`);
  await db.query(`insert into notes (owner, body) values ('alice', 'a1'), ('alice', 'a2'), ('bob', 'b1')`);
  await db.query(`do $$ begin create role hangar_test_authenticated nologin noinherit; exception when duplicate_object then null; end $$`);
  await db.query(`grant select, insert on notes to hangar_test_authenticated`);
  await db.query(`grant usage on sequence notes_id_seq to hangar_test_authenticated`);
});
after(() => t.close());

/** Run `fn` with fresh per-invocation bindings, closing them after. */
async function withSql<T>(opts: Partial<SqlBindingOptions>, fn: (call: (name: string, ...args: unknown[]) => Promise<any>) => Promise<T>): Promise<T> {
  const b = createSqlBindings({ db, ...opts });
  try {
    return await fn((name, ...args) => b.functions[name](args, info));
  } finally {
    await b.close();
  }
}

const q = (call: (name: string, ...args: unknown[]) => Promise<any>, text: string, params: unknown[] = [], tx: string | null = null) =>
  call("sql.query", text, params, tx);

test(`${backend}: parameterized query returns plain rows`, async () => {
  await withSql({}, async (call) => {
    const rows = await q(call, "select $1::int + 1 as n, current_user as who", [41]);
    assert.deepEqual(rows, [{ n: 42, who: "hangar_guest" }]);
  });
});

test(`${backend}: a multi-statement string is refused by the extended protocol, even without parameters`, async () => {
  await withSql({}, async (call) => {
    await assert.rejects(q(call, "select 1; select 2"), (e: any) => e.code === "42601" && /multiple commands/.test(e.message));
    await assert.rejects(q(call, "select 1; set role postgres"), (e: any) => e.code === "42601");
  });
});

for (const text of [
  "RESET ROLE",
  "set role postgres",
  "SET SESSION AUTHORIZATION postgres",
  "reset session authorization",
  "set statement_timeout = 0",
  "SET LOCAL statement_timeout = 0",
  "reset statement_timeout",
  "reset all",
  "set request.jwt.claims = '{\"sub\":\"bob\"}'",
  "begin",
  "commit",
  "rollback",
  "savepoint s",
  "start transaction",
  "do $$ begin perform 1; end $$",
  "copy notes to program 'id'",
  "copy notes from stdin",
  "listen chat",
  "notify chat",
  "create function f() returns int language sql as 'select 1'",
  "create role x",
  "alter role hangar_guest superuser",
  "call p()",
  "prepare p as select 1",
  "discard all",
  "load 'x'",
  "/* select */ set role postgres",
  "/* /* nested */ select */ reset role",
  "-- select\nreset role",
  "  \n\t reset role",
]) {
  test(`${backend}: refuses ${JSON.stringify(text)}`, async () => {
    await withSql({}, async (call) => {
      await assert.rejects(q(call, text), (e: any) => e.code === "42501" && /not allowed/.test(e.message) && !(e instanceof HostBindingError));
      const [{ who }] = await q(call, "select current_user as who");
      assert.equal(who, "hangar_guest");
    });
  });
}

test(`${backend}: set_config cannot undo the role, the timeouts or the claims`, async () => {
  await withSql({ claims: { sub: "alice" } }, async (call) => {
    for (const text of [
      "select set_config('role', 'postgres', false)",
      "select set_config('session_authorization', 'postgres', false)",
      "select set_config('statement_timeout', '0', false)",
      "select set_config('request.jwt.claims', '{\"sub\":\"bob\"}', false)",
      "select pg_catalog.set_config('request.jwt.claims', '{\"sub\":\"bob\"}', true)",
      "select query_to_xml('select set_config(''role'', ''postgres'', false)', true, true, '')",
    ]) {
      await assert.rejects(q(call, text), (e: any) => e.code === "42501", text);
    }
    const [row] = await q(call, "select current_user as who, current_setting('request.jwt.claims', true) as claims");
    assert.deepEqual(row, { who: "hangar_guest", claims: '{"sub":"alice"}' });
  });
});

test(`${backend}: forged claims in one statement are not visible to the next (inside sql.begin too)`, async () => {
  await withSql({ claims: { sub: "alice" } }, async (call) => {
    const tx = await call("sql.begin");
    await assert.rejects(q(call, "select set_config('request.jwt.claims', '{\"sub\":\"bob\"}', true)", [], tx));
    await call("sql.rollback", tx);
    const [{ c }] = await q(call, "select current_setting('request.jwt.claims', true) as c");
    assert.equal(c, '{"sub":"alice"}');
  });
});

test(`${backend}: claims are visible as request.jwt.claims; none is the empty string`, async () => {
  await withSql({ claims: { sub: "alice", role: "authenticated" } }, async (call) => {
    const [{ c }] = await q(call, "select current_setting('request.jwt.claims', true)::jsonb as c");
    assert.deepEqual(c, { sub: "alice", role: "authenticated" });
  });
  await withSql({}, async (call) => {
    const [{ c }] = await q(call, "select current_setting('request.jwt.claims', true) as c");
    assert.equal(c, "");
  });
});

test(`${backend}: RLS applies under a configured role`, async () => {
  await withSql({ role: "hangar_test_authenticated", claims: { sub: "alice" } }, async (call) => {
    const rows = await q(call, "select body, current_user as who from notes order by body");
    assert.deepEqual(rows, [{ body: "a1", who: "hangar_test_authenticated" }, { body: "a2", who: "hangar_test_authenticated" }]);
    await assert.rejects(q(call, "insert into notes (owner, body) values ('bob', 'forged')"), (e: any) => e.code === "42501" && /row-level security/.test(e.message));
  });
  await withSql({ role: "hangar_test_authenticated", claims: null }, async (call) => {
    assert.deepEqual(await q(call, "select body from notes"), []);
  });
});

test(`${backend}: pg_sleep past the statement timeout is cancelled with 57014`, { skip: backend === "pglite" ? "PGlite cannot interrupt a running statement (no timers in the WASM backend): documented gap" : false }, async () => {
  await withSql({ limits: { statementTimeoutMs: 200 } }, async (call) => {
    const started = Date.now();
    await assert.rejects(q(call, "select pg_sleep(5)"), (e: any) => e.code === "57014");
    assert.ok(Date.now() - started < 2000);
    const [{ st }] = await q(call, "select current_setting('statement_timeout') as st");
    assert.equal(st, "200ms");
  });
});

test(`${backend}: more rows than the cap is an error, not a truncation`, async () => {
  await withSql({ limits: { maxRows: 10 } }, async (call) => {
    assert.equal((await q(call, "select g from generate_series(1, 10) g")).length, 10);
    await assert.rejects(q(call, "select g from generate_series(1, 11) g"), (e: any) => e.code === "ROW_LIMIT" && /10 rows/.test(e.message));
  });
});

test(`${backend}: rows past the cap are never produced, and a write whose result passes the cap is rolled back`, async () => {
  await db.query("create sequence produced; grant usage on sequence produced to hangar_guest");
  await db.query("create table capped (n int); grant select, insert on capped to hangar_guest");
  await withSql({ limits: { maxRows: 10 } }, async (call) => {
    // The server stops at the cap + 1: nextval ran 11 times, not 100,000.
    await assert.rejects(q(call, "select nextval('produced') from generate_series(1, 100000)"), (e: any) => e.code === "ROW_LIMIT");
    const tx = await call("sql.begin");
    await assert.rejects(q(call, "select nextval('produced') from generate_series(1, 100000)", [], tx), (e: any) => e.code === "ROW_LIMIT");
    await call("sql.rollback", tx);
    await assert.rejects(q(call, "insert into capped select g from generate_series(1, 11) g returning n"), (e: any) => e.code === "ROW_LIMIT");
    await assert.rejects(q(call, "with w as (insert into capped select g from generate_series(1, 11) g returning n) select * from w"), (e: any) => e.code === "ROW_LIMIT");
    assert.deepEqual(await q(call, "insert into capped values (1) returning n"), [{ n: 1 }]);
  });
  assert.equal((await db.query<{ v: string }>("select last_value::text as v from produced")).rows[0].v, "22");
  assert.deepEqual((await db.query("select n from capped")).rows, [{ n: 1 }]);
});

test(`${backend}: types cross as SPEC §4 says`, async () => {
  await withSql({}, async (call) => {
    await q(call, "insert into kinds values ($1, $2, $3, $4, $5, $6, $7)", ["9007199254740993", "1.50", new Date("2026-01-02T03:04:05Z"), new Uint8Array([1, 2, 255]), { a: [1, "x"] }, ["1", "2"], true]);
    const [row] = await q(call, "select * from kinds");
    assert.equal(row.i, "9007199254740993");
    assert.equal(row.n, "1.50");
    assert.ok(row.at instanceof Date);
    assert.equal(row.at.toISOString(), "2026-01-02T03:04:05.000Z");
    assert.equal(Object.getPrototypeOf(row.b), Uint8Array.prototype);
    assert.deepEqual([...row.b], [1, 2, 255]);
    assert.deepEqual(row.j, { a: [1, "x"] });
    assert.deepEqual(row.arr, ["1", "2"]);
    assert.equal(row.ok, true);
    assert.equal(Object.getPrototypeOf(row), Object.prototype);
  });
});

test(`${backend}: Postgres errors carry code, message and detail; they are guest errors`, async () => {
  await db.query("create table uniq (k text primary key)");
  await withSql({}, async (call) => {
    await q(call, "insert into uniq values ($1)", ["a"]);
    await assert.rejects(q(call, "insert into uniq values ($1)", ["a"]), (e: any) => {
      assert.ok(!(e instanceof HostBindingError));
      assert.equal(e.code, "23505");
      assert.match(e.message, /duplicate key/);
      assert.match(e.detail, /Key \(k\)=\(a\) already exists/);
      return true;
    });
    await assert.rejects(q(call, "select * from nope"), (e: any) => e.code === "42P01");
    await assert.rejects(q(call, "select * from hangar.secrets"), (e: any) => e.code === "42501");
  });
});

test(`${backend}: sql.begin commits and rolls back; statements inside see the transaction`, async () => {
  await db.query("create table ledger (n int)");
  await withSql({}, async (call) => {
    const tx = await call("sql.begin");
    await q(call, "insert into ledger values (1)", [], tx);
    assert.deepEqual(await q(call, "select n from ledger", [], tx), [{ n: 1 }]);
    await call("sql.commit", tx);
    const tx2 = await call("sql.begin");
    await q(call, "insert into ledger values (2)", [], tx2);
    await call("sql.rollback", tx2);
    await assert.rejects(call("sql.commit", tx2), (e: any) => e.code === "25000");
  });
  const { rows } = await db.query("select n from ledger order by n");
  assert.deepEqual(rows, [{ n: 1 }]);
});

test(`${backend}: committing a transaction an error aborted is an error and rolls back`, async () => {
  await db.query("create table aborted (n int primary key)");
  await withSql({}, async (call) => {
    const tx = await call("sql.begin");
    await q(call, "insert into aborted values (1)", [], tx);
    await assert.rejects(q(call, "insert into aborted values (1)", [], tx), (e: any) => e.code === "23505");
    await assert.rejects(q(call, "select 1", [], tx), (e: any) => e.code === "25P02");
    await assert.rejects(call("sql.commit", tx), (e: any) => e.code === "25P02");
  });
  assert.equal((await db.query("select * from aborted")).rows.length, 0);
});

test(`${backend}: close() rolls back a transaction the guest left open, and is safe twice`, async () => {
  await db.query("create table leftover (n int)");
  const b = createSqlBindings({ db });
  const tx = (await b.functions["sql.begin"]([], info)) as string;
  await b.functions["sql.query"](["insert into leftover values (1)", [], tx], info);
  await b.close();
  await b.close();
  assert.equal((await db.query("select * from leftover")).rows.length, 0);
  await assert.rejects(b.functions["sql.query"](["select 1", []], info), (e: any) => e instanceof HostBindingError);
  // The session went back to the pool clean.
  const { rows } = await db.query("select current_user as who, current_setting('statement_timeout') as st");
  assert.notEqual(rows[0].who, "hangar_guest");
});

test(`${backend}: a query outside the open transaction still works (PGlite: it shares the held session)`, async () => {
  await withSql({}, async (call) => {
    const tx = await call("sql.begin");
    const rows = await q(call, "select 7 as n");
    assert.deepEqual(rows, [{ n: 7 }]);
    await call("sql.rollback", tx);
  });
});

test(`${backend}: exactly-once session: guest SQL commits or rolls back with the caller, and leaves its settings as they were`, async () => {
  await db.query("create table claimed (n int)");
  for (const commit of [true, false]) {
    await db.withClient(async (session) => {
      await session.query("begin");
      const before = (await session.query("select current_user as who, current_setting('statement_timeout') as st")).rows[0];
      const b = createSqlBindings({ db, session, claims: { sub: "alice" } });
      const call = (name: string, ...args: unknown[]) => b.functions[name](args, info) as Promise<any>;
      await q(call, "insert into claimed values ($1)", [commit ? 1 : 2]);
      await assert.rejects(q(call, "insert into claimed values ('x')"), (e: any) => e.code === "22P02");
      const tx = await call("sql.begin");
      await q(call, "insert into claimed values ($1)", [commit ? 10 : 20], tx);
      await call("sql.commit", tx);
      const tx2 = await call("sql.begin");
      await q(call, "insert into claimed values (99)", [], tx2);
      await call("sql.rollback", tx2);
      await b.close();
      const afterRow = (await session.query("select current_user as who, current_setting('statement_timeout') as st")).rows[0];
      assert.deepEqual(afterRow, before);
      await session.query(commit ? "commit" : "rollback");
    });
  }
  const { rows } = await db.query("select n from claimed order by n");
  assert.deepEqual(rows.map((r) => r.n), [1, 10]);
});

test(`${backend}: concurrent guest queries in one invocation`, async () => {
  await withSql({}, async (call) => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => q(call, "select $1::int as i", [i])));
    assert.deepEqual(results.map((r) => r[0].i), [...Array(10).keys()]);
  });
});

// Autocommit statements are prepared once per session (wire.ts Step.cache): what a prepared plan must not
// carry from one use to the next is the role, the claims, the privileges, or a table's old shape.
test(`${backend}: a statement prepared on a session answers by each use's role, claims and privileges, more often than Postgres's generic-plan threshold`, async () => {
  await db.query("create table private_notes (body text)");
  await db.query("insert into private_notes values ('p1')");
  await db.query("revoke all on private_notes from hangar_guest");
  await db.query("grant select on private_notes to hangar_test_authenticated");
  try {
    const text = "select body, current_user as who from notes order by body";
    const other = "select body from private_notes";
    for (let i = 0; i < 8; i++) {
      const sub = i % 2 ? "bob" : "alice";
      await withSql({ role: "hangar_test_authenticated", claims: { sub } }, async (call) => {
        const want = sub === "bob" ? [{ body: "b1", who: "hangar_test_authenticated" }] : [{ body: "a1", who: "hangar_test_authenticated" }, { body: "a2", who: "hangar_test_authenticated" }];
        assert.deepEqual(await q(call, text), want, `use ${i} as ${sub}`);
        assert.deepEqual(await q(call, other), [{ body: "p1" }]);
      });
      // the same texts as the default role: no claims, no rows; no privilege on private_notes, refused every time
      await withSql({}, async (call) => {
        assert.deepEqual(await q(call, text), [], `use ${i} as hangar_guest`);
        await assert.rejects(q(call, other), (e: any) => e.code === "42501" && /permission denied/.test(e.message), `use ${i} as hangar_guest`);
      });
    }
  } finally {
    await db.query("drop table private_notes");
  }
});

test(`${backend}: a table changed under prepared statements answers with its new shape (the plan is made again)`, async () => {
  await db.query("create table reshaped (id int primary key)");
  await db.query("grant select on reshaped to hangar_guest");
  try {
    await db.query("insert into reshaped values (1), (2)");
    // concurrent uses, so that several pool sessions prepare the text (PGlite: its one session, several times)
    const all = () => withSql({}, (call) => Promise.all(Array.from({ length: 6 }, () => q(call, "select * from reshaped order by id"))));
    for (const rows of await all()) assert.deepEqual(rows, [{ id: 1 }, { id: 2 }]);
    await db.query("alter table reshaped add column label text default 'x'");
    for (const rows of await all()) assert.deepEqual(rows, [{ id: 1, label: "x" }, { id: 2, label: "x" }]);
    await db.query("alter table reshaped drop column label");
    for (const rows of await all()) assert.deepEqual(rows, [{ id: 1 }, { id: 2 }]);
  } finally {
    await db.query("drop table reshaped");
  }
});

test(`${backend}: statements a session lost behind the binding's back (DEALLOCATE ALL elsewhere) are made again, and the query answers`, async () => {
  await withSql({}, async (call) => {
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await q(call, "select $1::int as i", [i]), [{ i }]);
      // sequential use: the pool hands back the session it just took back, which forgets its prepared statements
      await db.withClient((s) => s.query("deallocate all"));
      assert.deepEqual(await q(call, "select $1::int as i", [i + 10]), [{ i: i + 10 }], `round ${i}`);
      // and one the session holds without knowing (another client's, through a pooler in transaction mode)
      const text = `select ${i} as fresh`;
      const name = `hangar_g_${createHash("sha256").update(text).digest("hex").slice(0, 32)}`;
      await db.withClient((s) => s.query(`prepare ${name} as ${text}`));
      assert.deepEqual(await q(call, text), [{ fresh: i }], `round ${i}, 42P05`);
    }
  });
});
