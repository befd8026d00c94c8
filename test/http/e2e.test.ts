import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SignJWT } from "jose";
import pg from "pg";
import { runCli, startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { waitFor } from "../helpers/wait.ts";
import { bundleFunction } from "../../host/build/index.ts";
import { createPgDatabase, dropPgDatabase } from "../helpers/db.ts";

const FIXTURES = new URL("./fixtures/functions", import.meta.url).pathname;
const JWT_SECRET = "test-jwt-secret-that-is-long-enough-for-hs256";

let dbUrl: string;
let dir: string;
let env: Record<string, string>;
const servers: ServerProcess[] = [];

async function start(extra: Record<string, string> = {}): Promise<ServerProcess> {
  const s = await startServerProcess(["start"], { ...env, ...extra });
  servers.push(s);
  return s;
}

before(async () => {
  dbUrl = await createPgDatabase();
  dir = await mkdtemp(join(tmpdir(), "hangar-e2e-"));
  await cp(FIXTURES, join(dir, "functions"), { recursive: true });
  env = {
    DATABASE_URL: dbUrl,
    HANGAR_ADMIN_TOKEN: "admin-token",
    HANGAR_SECRET_KEY: "secret-key",
    HANGAR_JWT_SECRET: JWT_SECRET,
    HANGAR_MAX_BODY_BYTES: "4096",
  };
  const r = await runCli(["deploy", "--dir", join(dir, "functions")], env);
  assert.equal(r.code, 0, r.stderr + r.stdout);
});

after(async () => {
  await Promise.all(servers.map((s) => s.kill()));
  await dropPgDatabase(dbUrl);
  await rm(dir, { recursive: true, force: true });
});

describe("a deployed instance over a real port", () => {
  let s: ServerProcess;
  before(async () => {
    s = await start();
  });

  test("the guest sees the full request and its response comes back whole", async () => {
    const res = await fetch(`${s.url}/functions/v1/echo/deep/path?q=1&q=2`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: new Uint8Array([0, 1, 2, 255]),
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("x-echo"), "yes");
    assert.deepEqual(res.headers.getSetCookie(), ["a=1", "b=2"]);
    const body = await res.json();
    // Supabase's convention: the guest sees /<name>/<rest>, query and host kept.
    assert.equal(body.url, `${s.url}/echo/deep/path?q=1&q=2`);
    assert.equal(body.method, "POST");
    assert.equal(body.contentType, "application/octet-stream");
    assert.deepEqual(body.bodyBytes, [0, 1, 2, 255]);
    assert.equal(body.requestId, res.headers.get("x-request-id"));
  });

  test("each error status of SPEC §5 comes from a real cause", async () => {
    const expectError = async (path: string, status: number, code: string, init?: RequestInit) => {
      const res = await fetch(`${s.url}${path}`, init);
      const body = await res.json();
      assert.equal(res.status, status, `${path}: ${JSON.stringify(body)}`);
      assert.equal(body.error.code, code);
      assert.equal(body.error.requestId, res.headers.get("x-request-id"));
      return body.error.message as string;
    };
    assert.match(await expectError("/functions/v1/missing", 404, "NOT_FOUND"), /"missing" is not deployed/);
    await expectError("/functions/v1/echo", 413, "PAYLOAD_TOO_LARGE", { method: "POST", body: new Uint8Array(5000) });
    // production (SPEC §5): the guest's message stays in the invocation log; the client gets code and request id
    const boom = await fetch(`${s.url}/functions/v1/boom`);
    const boomBody = await boom.json();
    assert.equal(boom.status, 500);
    assert.equal(boomBody.error.code, "GUEST_THREW");
    assert.doesNotMatch(boomBody.error.message, /kaboom/);
    const boomId = boom.headers.get("x-request-id");
    assert.equal(boomBody.error.requestId, boomId);
    const ledger = new pg.Client({ connectionString: dbUrl });
    await ledger.connect();
    try {
      let logged: string | undefined;
      for (let i = 0; i < 600 && logged === undefined; i++) {
        logged = (await ledger.query("select error_message from hangar.invocations where request_id = $1", [boomId])).rows[0]?.error_message;
        if (logged === undefined) await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(logged ?? "(not logged)", /kaboom from guest/);
    } finally {
      await ledger.end();
    }
    await expectError("/functions/v1/stall", 504, "WALL_TIME_LIMIT");
    await expectError("/functions/v1/spin", 546, "CPU_LIMIT");
    await expectError("/functions/v1/hog", 546, "MEMORY_LIMIT");
    // 502: the database link of a host binding fails under the guest
    const inflight = fetch(`${s.url}/functions/v1/dbwait`);
    const admin = new pg.Client({ connectionString: dbUrl });
    await admin.connect();
    try {
      for (let killed = 0, i = 0; !killed && i < 100; i++) {
        await new Promise((r) => setTimeout(r, 50));
        killed = (await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where query like '%dbwait-marker%' and pid <> pg_backend_pid()")).rowCount ?? 0;
      }
    } finally {
      await admin.end();
    }
    const failed = await inflight;
    const failure = await failed.json();
    assert.equal(failed.status, 502, JSON.stringify(failure));
    assert.equal(failure.error.code, "BINDING_FAILED");
    // after each limit, the same and other functions still answer
    assert.equal((await fetch(`${s.url}/functions/v1/echo`)).status, 201);
    await expectError("/functions/v1/spin", 546, "CPU_LIMIT");
  });

  test("auth: jwt accepts a valid token and refuses others", async () => {
    const token = await new SignJWT({ sub: "user-1" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("5m").sign(new TextEncoder().encode(JWT_SECRET));
    const ok = await fetch(`${s.url}/functions/v1/private-jwt`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { sub: "user-1" });
    assert.equal((await fetch(`${s.url}/functions/v1/private-jwt`)).status, 401);
    const forged = await new SignJWT({ sub: "x" }).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode("wrong-secret-wrong-secret-wrong-secret"));
    const bad = await fetch(`${s.url}/functions/v1/private-jwt`, { headers: { authorization: `Bearer ${forged}` } });
    assert.equal(bad.status, 401);
    assert.equal((await bad.json()).error.code, "INVALID_TOKEN");
  });

  test("auth: key accepts a created key, refuses a wrong or missing one", async () => {
    const created = await runCli(["keys", "create", "private-key", "--json"], env);
    assert.equal(created.code, 0, created.stderr);
    const { key } = JSON.parse(created.stdout);
    const ok = await fetch(`${s.url}/functions/v1/private-key`, { headers: { "x-api-key": key } });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), "secret stuff");
    assert.equal((await fetch(`${s.url}/functions/v1/private-key`)).status, 401);
    assert.equal((await fetch(`${s.url}/functions/v1/private-key`, { headers: { "x-api-key": "hk_nope" } })).status, 403);
  });

  test("the admin API needs the admin token", async () => {
    assert.equal((await fetch(`${s.url}/_hangar/api/functions.list`, { method: "POST" })).status, 401);
    const wrong = await fetch(`${s.url}/_hangar/api/functions.list`, { method: "POST", headers: { authorization: "Bearer nope" } });
    assert.equal(wrong.status, 403);
    const list = await runCli(["list", "--json", "--url", s.url, "--token", "admin-token"], { DATABASE_URL: "" });
    assert.equal(list.code, 0, list.stderr);
    assert.ok(JSON.parse(list.stdout).some((f: { name: string }) => f.name === "echo"));
  });

  test("SIGTERM lets in-flight requests finish", async () => {
    const extra = await start();
    const inflight = fetch(`${extra.url}/functions/v1/slow?ms=1200`);
    await new Promise((r) => setTimeout(r, 300));
    const stopped = extra.stop(20_000);
    const res = await inflight;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "slept 1200");
    assert.equal(await stopped, 0);
  });
});

test("two instances switch to a new version within a second of the deploy, and back on rollback", async () => {
  const a = await start();
  const b = await start();
  const versionOf = async (s: ServerProcess) => (await (await fetch(`${s.url}/functions/v1/echo`)).json()).version as string;
  assert.equal(await versionOf(a), "v1");
  assert.equal(await versionOf(b), "v1");
  const file = join(dir, "functions", "echo.ts");
  await writeFile(file, (await readFile(file, "utf8")).replace('"v1"', '"v2"'));
  const deployed = await runCli(["deploy", "echo", "--dir", join(dir, "functions")], env);
  assert.equal(deployed.code, 0, deployed.stderr);
  assert.match(deployed.stdout, /echo: deployed version 2/);
  const switchedWithin = async (want: string) => {
    const t0 = Date.now();
    const seen = await Promise.all(
      [a, b].map(async (s) => {
        while (Date.now() - t0 < 5_000) {
          if ((await versionOf(s)) === want) return Date.now() - t0;
          await new Promise((r) => setTimeout(r, 20));
        }
        return Infinity;
      }),
    );
    return Math.max(...seen);
  };
  assert.ok((await switchedWithin("v2")) <= 1_000, "both instances serve v2 within a second");
  const again = await runCli(["deploy", "echo", "--dir", join(dir, "functions")], env);
  assert.match(again.stdout, /echo: unchanged \(version 2/);
  const rolled = await runCli(["rollback", "echo"], env);
  assert.equal(rolled.code, 0, rolled.stderr);
  assert.match(rolled.stdout, /now serving version 1/);
  assert.ok((await switchedWithin("v1")) <= 1_000, "both instances serve v1 again within a second");
  const to2 = await runCli(["rollback", "echo", "--to", "2"], env);
  assert.match(to2.stdout, /now serving version 2/);
});

test("a deploy, rollback or delete through an instance's admin API is served by that instance when the call returns", async () => {
  const s = await start();
  const other = await start();
  const fnDir = join(dir, "functions");
  const source = (await readFile(join(fnDir, "echo.ts"), "utf8")).replace(/const VERSION = "v\d+"/, 'const VERSION = "n0"');
  const admin = async (op: string, args: Record<string, unknown>) => {
    const res = await fetch(`${s.url}/_hangar/api/${op}`, { method: "POST", headers: { authorization: "Bearer admin-token" }, body: JSON.stringify(args) });
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as { result: Record<string, unknown> }).result;
  };
  // no waiting between the call's answer and the request: the call answers once this instance has switched
  const served = async (srv: ServerProcess) => {
    const res = await fetch(`${srv.url}/functions/v1/at-once`);
    return res.ok ? ((await res.json()) as { version: string }).version : res.status;
  };
  const scratch = await mkdtemp(join(tmpdir(), "hangar-at-once-"));
  try {
    for (let v = 1; v <= 5; v++) {
      const file = join(scratch, `at-once-${v}.ts`);
      await writeFile(file, source.replace('"n0"', `"n${v}"`));
      const { code, map, hash } = await bundleFunction(file, { cwd: scratch });
      assert.equal((await admin("functions.deploy", { name: "at-once", code, map, hash })).version, v);
      assert.equal(await served(s), `n${v}`, `version ${v} is served as soon as its deploy returned`);
    }
    for (const to of [2, 4, 1]) {
      await admin("functions.rollback", { name: "at-once", to });
      assert.equal(await served(s), `n${to}`, `version ${to} is served as soon as the rollback returned`);
    }
    // the other instance switches on the NOTIFY
    await waitFor("the other instance serves version 1", async () => (await served(other)) === "n1");
    await admin("functions.delete", { name: "at-once" });
    assert.equal(await served(s), 404);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});

test("killing one of two instances mid-request loses no request on the other", async () => {
  const a = await start();
  const b = await start();
  const slowOnA = fetch(`${a.url}/functions/v1/slow?ms=20000`).then(
    () => "answered",
    () => "connection lost",
  );
  let stop = false;
  let loadError: unknown = null;
  const results: number[] = [];
  const load = (async () => {
    while (!stop) {
      const res = await fetch(`${b.url}/functions/v1/slow?ms=5`);
      results.push(res.status);
      await res.text();
    }
  })().catch((e) => void (loadError = e));
  // conditions, not times: b is serving before the kill, and keeps serving after it
  const served = async (n: number) => {
    while (results.length < n && loadError === null) await new Promise((r) => setTimeout(r, 10));
  };
  await served(5);
  await a.kill();
  await served(results.length + 10);
  stop = true;
  await load;
  assert.equal(loadError, null, `a request on the surviving instance failed: ${loadError}`);
  assert.equal(await slowOnA, "connection lost");
  assert.ok(results.every((s) => s === 200), "every request on the surviving instance succeeded");
});

test("start refuses a bad deploy with the function, key and reason", async () => {
  const bad = await mkdtemp(join(tmpdir(), "hangar-bad-"));
  try {
    await writeFile(join(bad, "broken.ts"), 'export const config = { schedule: "*/61 * * * *", colour: "red" };\nexport default async () => new Response("x");\n');
    const r = await runCli(["deploy", "--dir", bad], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /broken/);
    assert.match(r.stderr, /config\.schedule/);
    assert.match(r.stderr, /config\.colour/);
    await writeFile(join(bad, "broken.ts"), 'import { readFileSync } from "node:fs";\nexport default async () => new Response(readFileSync("/etc/passwd", "utf8"));\n');
    const r2 = await runCli(["deploy", "--dir", bad], env);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /broken\.ts:1:\d+: "node:fs" cannot be used in a Hangar function: there is no file system/);
  } finally {
    await rm(bad, { recursive: true, force: true });
  }
});

test("hangar invoke runs a function against the database without a server, and through one with --url", async () => {
  const local = await runCli(["invoke", "echo", "--data", '{"a":1}', "--path", "/x?y=2"], env);
  assert.equal(local.code, 0, local.stderr);
  const body = JSON.parse(local.stdout);
  assert.equal(body.method, "POST");
  // The guest sees /<name>/<rest>, as under /functions/v1 over HTTP.
  assert.match(body.url, /^http:\/\/[^/]+\/echo\/x\?y=2$/);
  assert.deepEqual(Buffer.from(body.bodyBytes).toString(), '{"a":1}');
  const s = await start();
  const remote = await runCli(["invoke", "boom", "--url", s.url, "--token", "admin-token"], { DATABASE_URL: "" });
  assert.equal(remote.code, 1, "a failing function exits 1");
  assert.match(remote.stdout, /GUEST_THREW/);
});

test("a chunked body with no content-length is capped while streaming (413), and a small one arrives whole", async () => {
  const s = await start();
  const chunked = (bytes: number) =>
    fetch(`${s.url}/functions/v1/echo`, {
      method: "POST",
      body: new ReadableStream({
        start(c) {
          for (let sent = 0; sent < bytes; sent += 1000) c.enqueue(new Uint8Array(Math.min(1000, bytes - sent)).fill(7));
          c.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
  const big = await chunked(10_000);
  assert.equal(big.status, 413);
  assert.equal((await big.json()).error.code, "PAYLOAD_TOO_LARGE");
  const small = await chunked(1_500);
  assert.equal(small.status, 201);
  const body = await small.json();
  assert.equal(body.bodyBytes.length, 1_500);
  assert.ok(body.bodyBytes.every((b: number) => b === 7));
});
