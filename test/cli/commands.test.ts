// Everyday commands as a user types them, against a real Postgres and no
// server: hangar new (every template deploys), hangar sql, hangar delete; a
// database that comes up late; Node too old; completion; colour.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { withColour } from "../../host/cli/colour.ts";
import { HANGAR_BIN, runCli, startServerProcess } from "../helpers/cli.ts";
import { createPgDatabase, dropPgDatabase, queryOnce } from "../helpers/db.ts";

let url: string;
let dir: string;
const env = () => ({ DATABASE_URL: url, HANGAR_SECRET_KEY: "k", HANGAR_ADMIN_TOKEN: "t" });

const query = <R extends object>(text: string, values: unknown[] = []): Promise<R[]> => queryOnce<R>(url, text, values);

/** Exit 1 and one line on stderr matching `pattern`, no stack. */
function oneLine(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
}

before(async () => {
  url = await createPgDatabase();
  dir = await mkdtemp(join(tmpdir(), "hangar-commands-"));
});

after(async () => {
  await dropPgDatabase(url);
  await rm(dir, { recursive: true, force: true });
});

test("hangar new: each template deploys as written (the event one after the table its hint creates)", async () => {
  const project = join(dir, "new");
  await mkdir(project);
  for (const [name, kind] of [["greet", "http"], ["tick", "cron"], ["orders", "event"], ["docs", "search"]]) {
    const r = await runCli(["new", name, "--template", kind], env(), { cwd: project });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^created functions/${name}\\.ts \\(${kind}\\)`));
    if (kind === "event") {
      // The hint it prints is a command to run as is.
      const hint = /hangar sql "(.*)"/.exec(r.stdout);
      assert.ok(hint, r.stdout);
      const made = await runCli(["sql", hint[1]], env(), { cwd: project });
      assert.equal(made.code, 0, made.stderr);
    }
  }
  oneLine(await runCli(["new", "greet"], env(), { cwd: project }), /^hangar new: functions\/greet\.ts already exists$/);
  oneLine(await runCli(["new", "myFunc"], env(), { cwd: project }), /^hangar new: "myFunc" is not a valid function name: .*"my-func"/);
  const bad = await runCli(["new", "x", "--template", "nope"], env(), { cwd: project });
  assert.equal(bad.code, 2);
  const d = await runCli(["deploy"], env(), { cwd: project });
  assert.equal(d.code, 0, d.stdout + d.stderr);
  for (const name of ["greet", "tick", "orders", "docs"]) assert.match(d.stdout, new RegExp(`✓ ${name}\\b`), d.stdout);
  const [{ n }] = await query<{ n: number }>("select count(*)::int as n from hangar.functions where active_version is not null");
  assert.equal(n, 4);
  // the list says what each serves: the cron-only function has no HTTP trigger (its handlers are recorded at deploy)
  const list = await runCli(["list"], env(), { cwd: project });
  assert.equal(list.code, 0, list.stderr);
  const row = (name: string) => list.stdout.split("\n").find((l) => l.startsWith(`${name} `)) ?? "";
  assert.match(row("greet"), /\bhttp\b/);
  assert.match(row("tick"), /\bcron \S+/);
  assert.doesNotMatch(row("tick"), /\bhttp\b/);
  assert.match(row("orders"), /\bevents\b/);
  assert.doesNotMatch(row("orders"), /\bhttp\b/);
  assert.match(row("docs"), /\bhttp\b/);
});

test("hangar sql: a file and a statement, in one transaction, a failure in one line", async () => {
  const file = join(dir, "schema.sql");
  await writeFile(file, "create table if not exists notes (id int primary key, body text);\ninsert into notes values (1, 'one'), (2, 'two') on conflict do nothing;\n");
  const f = await runCli(["sql", "-f", file], env());
  assert.equal(f.code, 0, f.stderr);
  assert.equal(f.stdout.trim(), "ok: 2 statements, last changed 2 rows");
  const s = await runCli(["sql", "select id, body from notes order by id"], env());
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /^ID\s+BODY\n1\s+one\n2\s+two\n\(2 rows\)\n$/i);
  // The insert before the failing statement is rolled back with it.
  oneLine(await runCli(["sql", "insert into notes values (3, 'three'); select nope from notes"], env()), /^hangar sql: .*column "nope" does not exist/);
  assert.deepEqual(await query("select id from notes where id = 3"), []);
  oneLine(await runCli(["sql", "-f", join(dir, "missing.sql")], env()), /^hangar sql: cannot read .*missing\.sql: ENOENT$/);
  assert.equal((await runCli(["sql"], env())).code, 2);
});

test("hangar delete, with no server: the function, its table trigger, its pending events and its schedule go", async () => {
  const project = join(dir, "delete");
  await mkdir(join(project, "functions"), { recursive: true });
  // Its table comes with it as a schema file, which deploy runs first.
  await writeFile(join(project, "functions", "doomed.sql"), "create table if not exists public.doomed_rows (id int primary key);\n");
  await writeFile(
    join(project, "functions", "doomed.ts"),
    `export const config = { schedule: "@hourly", events: ["public.doomed_rows:insert"] };\nexport default { fetch: () => new Response("x"), scheduled() {}, event() {} };\n`,
  );
  const d = await runCli(["deploy"], env(), { cwd: project });
  assert.equal(d.code, 0, d.stdout + d.stderr);
  await query("insert into public.doomed_rows values (1)"); // no server: its event stays pending
  assert.equal((await query("select 1 from hangar.events where function_name = 'doomed' and status = 'pending'")).length, 1);
  assert.equal((await query("select 1 from pg_trigger where tgname = 'hangar_evt_doomed'")).length, 1);
  const r = await runCli(["delete", "doomed"], env(), { cwd: project });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "- doomed: deleted (1 version, 1 table trigger)");
  assert.deepEqual(await query("select 1 from hangar.functions where name = 'doomed'"), []);
  assert.deepEqual(await query("select 1 from hangar.versions where function_name = 'doomed'"), []);
  assert.deepEqual(await query("select 1 from pg_trigger where tgname = 'hangar_evt_doomed'"), []);
  assert.deepEqual(await query("select 1 from hangar.event_triggers where function_name = 'doomed'"), []);
  assert.deepEqual(await query("select 1 from hangar.events where function_name = 'doomed'"), []);
  assert.deepEqual(await query("select 1 from hangar.cron_state where function_name = 'doomed'"), []);
  // The table is the user's: it stays.
  assert.equal((await query("select 1 from public.doomed_rows")).length, 1);
  oneLine(await runCli(["delete", "doomed"], env(), { cwd: project }), /^hangar delete: function "doomed" is not deployed$/);
});

test("hangar dev --env-file gives the file's values to functions; a missing one is one line", async () => {
  const project = join(dir, "envfile");
  await mkdir(join(project, "functions"), { recursive: true });
  await writeFile(join(project, "functions", "shout.ts"), `export default { fetch: (_r: Request, env: Record<string, string>) => new Response(env.WORD ?? "none") };\n`);
  await writeFile(join(project, "local.env"), "# a comment\nWORD=ahoy\n");
  // A missing file: Node 20 itself reads `--env-file` after the script name and exits 9
  // ("node: nope.env: not found") before Hangar runs; newer Node leaves it to Hangar.
  const missing = await runCli(["dev", "--env-file", "nope.env"], env(), { cwd: project });
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr.trim(), /^(hangar dev: cannot read --env-file nope\.env: ENOENT|\S*node: nope\.env: not found)$/);
  const dev = await startServerProcess(["dev", "--env-file", "local.env"], env(), { cwd: project });
  try {
    assert.match(dev.output(), /env: 1 value\(s\) from local\.env given to every function/);
    const end = Date.now() + 30_000;
    let got = "";
    while (got !== "ahoy" && Date.now() < end) {
      got = await (await fetch(`${dev.url}/functions/v1/shout`)).text();
      if (got !== "ahoy") await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(got, "ahoy", dev.output());
  } finally {
    await dev.stop();
  }
});

test("`hangar logs | head`: the reader leaving early ends hangar quietly", async () => {
  const some = await runCli(["logs", "--since", "1h"], env());
  assert.match(some.stdout, /shout/, "the previous test's invocation is there to print");
  const child = spawn(process.execPath, [HANGAR_BIN, "logs", "--since", "1h"], { env: { ...process.env, ...env() }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.destroy(); // as `head` does once it has its lines
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  assert.equal(stderr, "");
  assert.equal(code, 0);
});

/** Forward `port` on loopback to the database's host and port. */
function forward(port: number, target: { host: string; port: number }): Promise<Server & { sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = Object.assign(
    createServer((client) => {
      const upstream = connect(target);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on("error", () => {});
        s.on("close", () => (client.destroy(), upstream.destroy(), sockets.delete(s)));
      }
      client.pipe(upstream).pipe(client);
    }),
    { sockets },
  );
  return new Promise((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", () => resolve(server)));
}

test("start-up and a CLI command wait for a database that comes up late, saying what they wait for", async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const real = new URL(url);
  const late = new URL(url);
  late.hostname = "127.0.0.1";
  late.port = String(port);
  const spawnHangar = (args: string[]) => {
    const child = spawn(process.execPath, [HANGAR_BIN, ...args], {
      env: { ...process.env, ...env(), DATABASE_URL: late.href, HANGAR_DB_WAIT_MS: "120000", HANGAR_LOG_FORMAT: "json" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    return { child, out: () => out, exited };
  };
  const until = async (what: string, check: () => boolean | Promise<boolean>, ms = 90_000) => {
    const end = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${start.out()}\n${list.out()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const start = spawnHangar(["start", "--port", "0"]);
  const list = spawnHangar(["list"]);
  let proxy: Awaited<ReturnType<typeof forward>> | undefined;
  try {
    const waiting = new RegExp(`waiting for the database at 127\\.0\\.0\\.1:${port}/[^ ]+ \\(.*ECONNREFUSED.*\\); attempt 2, retrying in`);
    await until("both to report a second attempt", () => waiting.test(start.out()) && waiting.test(list.out()));
    assert.equal(start.child.exitCode, null, "start is still waiting");
    proxy = await forward(port, { host: real.hostname, port: Number(real.port || 5432) });
    assert.equal(await list.exited, 0, list.out());
    assert.match(list.out(), /answered after \d+ attempts/);
    await until("start to listen", () => /"url":"http:\/\/[^"]+"/.test(start.out()));
    const served = /"url":"(http:\/\/[^"]+)"/.exec(start.out())![1];
    assert.equal((await fetch(`${served}/_hangar/health`)).status, 200);
    assert.doesNotMatch(start.out() + list.out(), /\n\s+at /);
  } finally {
    start.child.kill("SIGTERM");
    list.child.kill("SIGTERM");
    await Promise.all([start.exited, list.exited]);
    for (const s of proxy?.sockets ?? []) s.destroy();
    await new Promise<void>((r) => (proxy ? proxy.close(() => r()) : r()));
  }
});

test("a Node older than the engines field gets one line, before anything is loaded", async () => {
  const older = `data:text/javascript,Object.defineProperty(process.versions, "node", { value: "20.11.1" });`;
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ["--import", older, HANGAR_BIN, "list"], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stderr }));
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^hangar: needs Node\.js 20\.18 or newer; this is v\d+\.\d+\.\d+ \(see https:\/\/nodejs\.org\)\n$/);
});

test("hangar completion: bash completes commands and a command's options", async () => {
  const script = await runCli(["completion"]);
  assert.equal(script.code, 0);
  const complete = (words: string[]) =>
    new Promise<string>((resolve) => {
      const line = `COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _hangar; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const child = spawn("bash", ["-c", `${script.stdout}\n${line}`], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.on("exit", () => resolve(out));
    });
  assert.deepEqual((await complete(["hangar", "de"])).trim().split("\n").sort(), ["delete", "deploy", "dev"]);
  assert.match(await complete(["hangar", "deploy", "--"]), /^--offline$/m);
  assert.match(await complete(["hangar", "new", "--t"]), /^--template$/m);
});

test("colour on a terminal only: not when piped, with NO_COLOR or TERM=dumb", () => {
  const tty = { out: process.stdout.isTTY, err: process.stderr.isTTY };
  const lines: string[] = [];
  const sink = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
  try {
    process.stdout.isTTY = true;
    process.stderr.isTTY = true;
    withColour(sink, {}).out("✓ hello: v2");
    withColour(sink, {}).err("hangar list: cannot reach the database");
    withColour(sink, { NO_COLOR: "1" }).out("✓ hello: v2");
    withColour(sink, { TERM: "dumb" }).out("✓ hello: v2");
    process.stdout.isTTY = false;
    withColour(sink, {}).out("✓ hello: v2");
  } finally {
    process.stdout.isTTY = tty.out;
    process.stderr.isTTY = tty.err;
  }
  assert.deepEqual(lines, [
    "\x1b[32m✓\x1b[0m hello: v2",
    "\x1b[31mhangar list:\x1b[0m cannot reach the database",
    "✓ hello: v2",
    "✓ hello: v2",
    "✓ hello: v2",
  ]);
});
