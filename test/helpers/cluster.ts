// A Postgres cluster of a test's own (initdb/pg_ctl from the installed
// server binaries), for tests that restart, stop or cut the database.
// As root, the server runs as the postgres user (scripts/test.js does the same).
import { spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface OwnCluster {
  /** Superuser URL of the `postgres` database. */
  url: string;
  port: number;
  /** `pg_ctl restart -m <mode> -w`. */
  restart(mode?: "fast" | "immediate" | "smart"): Promise<void>;
  /** `pg_ctl stop -m fast -w`, then remove the data directory. Safe twice. */
  destroy(): Promise<void>;
}

function binDir(): string {
  const base = "/usr/lib/postgresql";
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, "bin", "initdb")));
  versions.sort((a, b) => Number(b) - Number(a));
  return join(base, versions[0], "bin");
}

function run(cmd: string, args: string[]): Promise<string> {
  const asRoot = process.getuid?.() === 0;
  const [c, a] = asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const child = spawn(c, a, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")} failed (${code}):\n${out}`))));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startOwnCluster(opts: { maxConnections?: number } = {}): Promise<OwnCluster> {
  const bin = binDir();
  const base = mkdtempSync(join(tmpdir(), "hangar-own-pg-"));
  if (process.getuid?.() === 0) {
    const { uid, gid } = await new Promise<{ uid: number; gid: number }>((resolve, reject) => {
      const c = spawn("id", ["postgres"], { stdio: ["ignore", "pipe", "ignore"] });
      let out = "";
      c.stdout.on("data", (d) => (out += d));
      c.on("exit", () => {
        const uid = /uid=(\d+)/.exec(out);
        const gid = /gid=(\d+)/.exec(out);
        if (!uid || !gid) reject(new Error("no postgres user"));
        else resolve({ uid: Number(uid[1]), gid: Number(gid[1]) });
      });
    });
    chownSync(base, uid, gid);
  }
  const data = join(base, "data");
  await run(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const port = await freePort();
  const o = [
    `-p ${port}`, "-c listen_addresses=127.0.0.1", "-c unix_socket_directories=''", "-c fsync=off",
    "-c synchronous_commit=off", "-c full_page_writes=off", `-c max_connections=${opts.maxConnections ?? 200}`,
  ].join(" ");
  const pgCtl = (...args: string[]) => run(join(bin, "pg_ctl"), args);
  await pgCtl("start", "-w", "-D", data, "-l", join(base, "server.log"), "-o", o);
  let destroyed: Promise<void> | null = null;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async restart(mode = "fast") {
      await pgCtl("restart", "-w", "-D", data, "-m", mode, "-l", join(base, "server.log"), "-o", o);
    },
    destroy() {
      destroyed ??= (async () => {
        await pgCtl("stop", "-w", "-D", data, "-m", "immediate").catch(() => {});
        rmSync(base, { recursive: true, force: true });
      })();
      return destroyed;
    },
  };
}
