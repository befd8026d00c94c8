// A throwaway PostgreSQL cluster for one bench run, started from the installed
// server binaries the way scripts/test.js does (initdb + pg_ctl, loopback only),
// or $DATABASE_URL when set (each benchmark then gets its own database in it).
import { spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";
import { onExit } from "./procs.ts";
import { freePort } from "./net.ts";

const root = resolve(import.meta.dirname, "../..");

function run(cmd: string, argv: string[], opts: { env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, argv, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function pgBinDir(): string {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, "bin", "initdb"))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions.length) throw new Error("no PostgreSQL server binaries under /usr/lib/postgresql; install postgresql or set DATABASE_URL");
  return join(base, versions[0], "bin");
}

export interface Cluster {
  /** Admin URL (database postgres). */
  url: string;
  /** PostgreSQL server version string. */
  version: string;
  /** A fresh database with the vector extension; returns its URL. */
  createDb(name: string): Promise<string>;
  stop(): void;
}

/** Start a fresh cluster (or use $DATABASE_URL); stopped and removed when the bench exits. */
export async function startCluster(log: (m: string) => void): Promise<Cluster> {
  let url = process.env.DATABASE_URL || "";
  let stop = () => {};
  if (!url) {
    const bin = pgBinDir();
    run("bash", [join(root, "scripts/install-pgvector.sh")], { env: { ...process.env, PG_CONFIG: join(bin, "pg_config") } });
    const asRoot = process.getuid?.() === 0;
    const as = (cmd: string, argv: string[]) => (asRoot ? run("runuser", ["-u", "postgres", "--", cmd, ...argv]) : run(cmd, argv));
    const base = mkdtempSync(join(tmpdir(), "hangar-bench-pg-"));
    const data = join(base, "data");
    if (asRoot) chownSync(base, Number(run("id", ["-u", "postgres"]).trim()), Number(run("id", ["-g", "postgres"]).trim()));
    as(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    const port = await freePort();
    // Same settings as the test cluster: durability off, so Postgres fsyncs are not what is measured.
    const opts = [
      `-p ${port}`, "-c listen_addresses=127.0.0.1", "-c unix_socket_directories=''", "-c fsync=off",
      "-c synchronous_commit=off", "-c full_page_writes=off", "-c max_connections=500", "-c shared_buffers=256MB",
      "-c maintenance_work_mem=256MB",
    ].join(" ");
    as(join(bin, "pg_ctl"), ["start", "-w", "-D", data, "-l", join(base, "server.log"), "-o", opts]);
    log(`PostgreSQL started on 127.0.0.1:${port} (${data})`);
    url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    let stopped = false;
    stop = () => {
      if (stopped) return;
      stopped = true;
      try {
        as(join(bin, "pg_ctl"), ["stop", "-D", data, "-m", "immediate", "-w"]);
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    };
    onExit(stop);
  }
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const version = (await admin.query<{ v: string }>("select current_setting('server_version') as v")).rows[0].v;
  await admin.end();
  return {
    url,
    version,
    async createDb(name) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
        await c.query(`create database ${name}`);
      } finally {
        await c.end();
      }
      const u = new URL(url);
      u.pathname = `/${name}`;
      const d = new pg.Client({ connectionString: u.toString() });
      await d.connect();
      await d.query("create extension if not exists vector");
      await d.end();
      return u.toString();
    },
    stop,
  };
}
