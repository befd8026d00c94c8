#!/usr/bin/env node
// `npm test`: provision a real Postgres with pgvector (DATABASE_URL when given,
// otherwise a throwaway cluster from the installed PostgreSQL binaries), build
// a migrated template database, run every test file against it, then run the
// suites marked `@both-backends` again on the embedded PGlite backend.
// Usage: npm test [-- test/some.test.ts ...] ; HANGAR_TEST_SKIP_PGLITE=1 skips the second pass.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, chownSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import pg from "pg";

const root = resolve(import.meta.dirname, "..");
const args = process.argv.slice(2);

function log(msg) {
  process.stderr.write(`[test] ${msg}\n`);
}

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function pgBinDir() {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, "bin", "initdb"))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions.length) throw new Error("no PostgreSQL server binaries under /usr/lib/postgresql; install postgresql or set DATABASE_URL");
  return join(base, versions[0], "bin");
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** Start (or reuse) a throwaway cluster; returns { url, stop }. */
async function startCluster() {
  const bin = pgBinDir();
  run("bash", [join(root, "scripts/install-pgvector.sh")], { env: { ...process.env, PG_CONFIG: join(bin, "pg_config") }, stdio: ["ignore", "inherit", "inherit"] });
  const asRoot = process.getuid?.() === 0;
  const as = (cmd, argv) => (asRoot ? run("runuser", ["-u", "postgres", "--", cmd, ...argv]) : run(cmd, argv));
  const key = createHash("sha256").update(root).digest("hex").slice(0, 10);
  const base = join(tmpdir(), `hangar-test-pg-${key}`);
  const data = join(base, "data");
  mkdirSync(base, { recursive: true });
  if (asRoot) chownSync(base, Number(run("id", ["-u", "postgres"]).trim()), Number(run("id", ["-g", "postgres"]).trim()));
  if (!existsSync(join(data, "PG_VERSION"))) {
    log(`initdb ${data}`);
    as(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  }
  const users = join(base, "users");
  mkdirSync(users, { recursive: true });
  await lock(base);
  try {
  writeFileSync(join(users, String(process.pid)), "");
  const status = spawnSync(asRoot ? "runuser" : join(bin, "pg_ctl"), asRoot ? ["-u", "postgres", "--", join(bin, "pg_ctl"), "status", "-D", data] : ["status", "-D", data]);
  let port;
  if (status.status === 0) {
    port = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[3]);
    log(`reusing running cluster on port ${port}`);
  } else {
    port = await freePort();
    const opts = [
      `-p ${port}`, "-c listen_addresses=127.0.0.1", "-c unix_socket_directories=''", "-c fsync=off",
      "-c synchronous_commit=off", "-c full_page_writes=off", "-c max_connections=500", "-c shared_buffers=256MB",
    ].join(" ");
    as(join(bin, "pg_ctl"), ["start", "-w", "-D", data, "-l", join(base, "server.log"), "-o", opts]);
    log(`started PostgreSQL on port ${port} (${data})`);
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    // Several `npm test` runs may share the cluster: the last one out stops it.
    stop: async () => {
      await lock(base);
      try {
        rmSync(join(users, String(process.pid)), { force: true });
        const alive = readdirSync(users).filter((pid) => {
          try {
            process.kill(Number(pid), 0);
            return true;
          } catch {
            rmSync(join(users, pid), { force: true });
            return false;
          }
        });
        if (!alive.length) as(join(bin, "pg_ctl"), ["stop", "-D", data, "-m", "fast", "-w"]);
      } finally {
        unlock(base);
      }
    },
  };
  } finally {
    unlock(base);
  }
}

/** A cross-process lock: mkdir is atomic; a lock older than a minute is stale. */
async function lock(base) {
  const dir = join(base, "lock");
  for (;;) {
    try {
      mkdirSync(dir);
      return;
    } catch {
      try {
        if (Date.now() - statSync(dir).mtimeMs > 60_000) rmSync(dir, { recursive: true, force: true });
      } catch {}
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function unlock(base) {
  rmSync(join(base, "lock"), { recursive: true, force: true });
}

function migrationsHash() {
  const h = createHash("sha256");
  for (const f of readdirSync(join(root, "sql")).sort()) h.update(f).update(readFileSync(join(root, "sql", f)));
  return h.digest("hex").slice(0, 12);
}

async function ensureTemplate(adminUrl) {
  const name = `hangar_template_${migrationsHash()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Concurrent runs build the template once, one at a time.
    await admin.query("select pg_advisory_lock(7460013)");
    const { rows } = await admin.query("select datistemplate from pg_database where datname = $1", [name]);
    if (rows[0]?.datistemplate) return name;
    if (rows.length) await admin.query(`drop database ${name} with (force)`);
    log(`creating template database ${name}`);
    await admin.query(`create database ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    run(process.execPath, [join(root, "bin/hangar.js"), "migrate"], { env: { ...process.env, DATABASE_URL: url.toString() } });
    await admin.query(`alter database ${name} is_template true`);
    return name;
  } finally {
    await admin.end();
  }
}

function testFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (e === "node_modules" || e === "fixtures") continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith(".test.ts")) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

function nodeTest(files, env) {
  return new Promise((res) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=3", "--test-reporter=spec", ...files], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: "inherit",
    });
    child.on("exit", (code, signal) => res(code ?? (signal ? 1 : 0)));
  });
}

async function main() {
  let cluster = null;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    cluster = await startCluster();
    adminUrl = cluster.url;
  }
  let status = 1;
  try {
    const template = await ensureTemplate(adminUrl);
    const files = args.length ? args.map((a) => resolve(a)) : [...testFiles(join(root, "test")), ...testFiles(join(root, "examples"))];
    // The dashboard's browser tests need Debian's chromium: installed once, a no-op when present.
    if (files.some((f) => relative(root, f).startsWith(join("test", "dashboard")))) {
      run("bash", [join(root, "scripts/install-chromium.sh")], { stdio: ["ignore", "inherit", "inherit"] });
    }
    const baseEnv = { HANGAR_TEST_PG_URL: adminUrl, HANGAR_TEST_TEMPLATE: template, DATABASE_URL: "" };
    log(`postgres pass: ${files.length} files`);
    status = await nodeTest(files, { ...baseEnv, HANGAR_TEST_BACKEND: "postgres" });
    const both = files.filter((f) => readFileSync(f, "utf8").includes("@both-backends"));
    if (both.length && !process.env.HANGAR_TEST_SKIP_PGLITE) {
      const dump = join(tmpdir(), `hangar-pglite-template-${migrationsHash()}.tgz`);
      if (!existsSync(dump)) {
        log("building PGlite template");
        run(process.execPath, ["--import", "tsx", join(root, "scripts/pglite-template.ts"), dump], { cwd: root });
      }
      log(`pglite pass: ${both.map((f) => relative(root, f)).join(", ")}`);
      const s2 = await nodeTest(both, { ...baseEnv, HANGAR_TEST_BACKEND: "pglite", HANGAR_TEST_PGLITE_TEMPLATE: dump });
      status = status || s2;
    }
  } finally {
    if (cluster) {
      try {
        await cluster.stop();
      } catch (err) {
        log(`stopping the cluster failed: ${err.message}`);
      }
    }
  }
  process.exitCode = status;
}

await main();
