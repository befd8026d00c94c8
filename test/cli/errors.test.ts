import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { HANGAR_BIN, runCli, startServerProcess } from "../helpers/cli.ts";

// Each operational failure: exit 1 and one line on stderr that says what is wrong, no stack.
function oneLine(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split("\n").filter((l) => !/^\d\d:\d\d:\d\d\.\d+ (INFO|DEBUG)/.test(l) && !l.startsWith("{"));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

test("port in use", async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
  const port = (blocker.address() as { port: number }).port;
  const dir = await mkdtemp(join(tmpdir(), "hangar-err-"));
  try {
    const r = await runCli(["dev", "--port", String(port), "--data-dir", join(dir, ".hangar"), "--dir", join(dir, "functions")], { DATABASE_URL: "" }, { cwd: dir });
    oneLine(r, new RegExp(`^hangar dev: port ${port} is already in use`));
  } finally {
    blocker.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("database unreachable, host unknown, malformed DATABASE_URL", async () => {
  oneLine(await runCli(["list"], { DATABASE_URL: "postgres://u:p@127.0.0.1:1/db", HANGAR_DB_WAIT_MS: "0" }), /^hangar list: cannot (reach|use) the database at 127\.0\.0\.1:1\b.*(connection refused|ECONNREFUSED)/);
  oneLine(await runCli(["list"], { DATABASE_URL: "postgres://u:p@no-such-host.invalid/db" }), /^hangar list: cannot (reach|use) the database at no-such-host\.invalid\b.*(not found|ENOTFOUND)/);
  oneLine(await runCli(["list"], { DATABASE_URL: "postgres://u:p#x@base/db" }), /^hangar list: DATABASE_URL is not a valid URL/);
  oneLine(await runCli(["list"], { DATABASE_URL: "mysql://u@h/db" }), /^hangar list: DATABASE_URL must start with postgres:\/\//);
});

test("a second `hangar dev` on the same folder refuses before opening the embedded database", async () => {
  const dir = await mkdtemp(join(tmpdir(), "hangar-lock-"));
  await mkdir(join(dir, "functions"));
  const first = await startServerProcess(["dev"], { DATABASE_URL: "" }, { cwd: dir });
  try {
    const r = await runCli(["dev", "--port", "0"], { DATABASE_URL: "" }, { cwd: dir });
    oneLine(r, new RegExp(`^hangar dev: the embedded database in \\.hangar is in use by another hangar \\(pid ${first.child.pid}\\)`));
    // The first one is unharmed.
    assert.equal((await fetch(`${first.url}/_hangar/health`)).status, 200);
  } finally {
    assert.equal(await first.stop(), 0);
  }
  // Once it stopped, the lock is gone and a command can open the database.
  const m = await runCli(["migrate"], { DATABASE_URL: "" }, { cwd: dir });
  assert.equal(m.code, 0, m.stderr);
  await rm(dir, { recursive: true, force: true });
});

test("a stale lock (its process gone) is taken over", async () => {
  const dir = await mkdtemp(join(tmpdir(), "hangar-stale-"));
  await mkdir(join(dir, ".hangar"));
  await writeFile(join(dir, ".hangar", "hangar.lock"), "2147483000");
  const m = await runCli(["migrate"], { DATABASE_URL: "" }, { cwd: dir });
  assert.equal(m.code, 0, m.stderr);
  await rm(dir, { recursive: true, force: true });
});

test("unknown options get Hangar's own message and exit 2", async () => {
  const r = await runCli(["deploy", "--x"]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), "hangar deploy: unknown option --x for `hangar deploy`; see hangar deploy --help");
});

test("`hangar logs | head`: a closed pipe ends quietly", async () => {
  const dir = await mkdtemp(join(tmpdir(), "hangar-epipe-"));
  try {
    // The reader is gone before hangar writes its help (a long output).
    const child = spawn(process.execPath, [HANGAR_BIN, "--help"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    assert.equal(stderr, "");
    assert.equal(code, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("--version, per-command help within 80 columns with every option described", async () => {
  const v = await runCli(["--version"]);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^hangar \d+\.\d+\.\d+\n$/);
  const top = await runCli(["--help"]);
  for (const cmd of ["dev", "start", "new", "deploy", "rollback", "delete", "versions", "list", "invoke", "logs", "secrets", "events", "cron", "sql", "migrate"]) {
    assert.match(top.stdout, new RegExp(`^  ${cmd} `, "m"), cmd);
    const h = await runCli([cmd, "--help"]);
    assert.equal(h.code, 0);
    for (const line of h.stdout.split("\n")) assert.ok(line.length <= 80, `${cmd}: ${line}`);
    for (const m of h.stdout.matchAll(/^\s+(?:-\w, )?--([\w-]+)(.*)$/gm)) assert.ok(m[2].trim().length > 0 || /\n\s{6,}\S/.test(h.stdout), `${cmd} --${m[1]} undescribed`);
  }
});
