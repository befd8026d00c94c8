// Child processes started by the bench: each in its own process group, all
// killed (by their ids) when the bench ends, however it ends.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  /** stdout+stderr so far (last 64 KB), for error messages. */
  output(): string;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs`; safe twice. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<Proc>();
const cleanups: (() => void)[] = [];

/** Run `fn` synchronously when the bench exits (pg cluster stop, temp dirs). */
export function onExit(fn: () => void): void {
  cleanups.push(fn);
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

function finalCleanup(): void {
  for (const p of live) killGroup(p.pid, "SIGKILL");
  live.clear();
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      fn();
    } catch (err) {
      process.stderr.write(`[bench] cleanup failed: ${(err as Error).message}\n`);
    }
  }
}

process.on("exit", finalCleanup);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    process.stderr.write(`[bench] ${sig}: stopping every process started\n`);
    process.exit(130);
  });
}

/** Spawn a tracked child in its own process group. */
export function start(name: string, cmd: string, args: string[], opts: SpawnOptions = {}): Proc {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], detached: true, ...opts });
  if (child.pid === undefined) throw new Error(`${name}: spawn ${cmd} failed`);
  let out = "";
  const keep = (b: Buffer) => {
    out += b.toString();
    if (out.length > 65536) out = out.slice(-65536);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const pid = child.pid;
  const exited = new Promise<string>((resolve) => {
    child.on("exit", (code, signal) => {
      live.delete(proc);
      resolve(signal ?? String(code));
    });
    child.on("error", (err) => {
      keep(Buffer.from(String(err)));
      live.delete(proc);
      resolve("error");
    });
  });
  let stopping: Promise<void> | null = null;
  const proc: Proc = {
    name,
    child,
    pid,
    output: () => out,
    exited,
    stop(graceMs = 3000) {
      stopping ??= (async () => {
        if (!live.has(proc)) return;
        killGroup(pid, "SIGTERM");
        const t = setTimeout(() => killGroup(pid, "SIGKILL"), graceMs);
        await exited;
        clearTimeout(t);
        killGroup(pid, "SIGKILL"); // stragglers in the group
      })();
      return stopping;
    },
  };
  live.add(proc);
  return proc;
}

/** Stop every tracked process still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
}

/** Poll `url` until it answers `want` (default: any 2xx); fails early if `proc` exits. */
export async function waitForHttp(url: string, proc: Proc | null, timeoutMs = 30_000, intervalMs = 20): Promise<number> {
  const t0 = performance.now();
  let exited: string | null = null;
  void proc?.exited.then((c) => (exited = c));
  let last = "";
  while (performance.now() - t0 < timeoutMs) {
    if (exited !== null) throw new Error(`${proc!.name} exited (${exited}) before ${url} answered:\n${proc!.output().slice(-3000)}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return performance.now() - t0;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last})${proc ? `:\n${proc.output().slice(-3000)}` : ""}`);
}

/** RSS in bytes of one pid, from /proc. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** The fields of /proc/<pid>/stat after the command name (utime and stime at 11 and 12, in ticks of 10 ms); throws without one. */
function statFields(pid: number | string): string[] {
  return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
}

const ticksMs = (f: string[]) => (Number(f[11]) + Number(f[12])) * 10;

/** CPU ms (user + system) of a process, from /proc; null where there is none. */
export function cpuMs(pid: number): number | null {
  try {
    return ticksMs(statFields(pid));
  } catch {
    return null;
  }
}

/**
 * CPU ms of every live process in process group `pgid` (a spawned server and
 * any it runs: an npm wrapper's binary, Postgres is not in it); null without /proc.
 */
export function groupCpuMs(pgid: number): number | null {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  let ms = 0;
  for (const d of pids) {
    try {
      const f = statFields(d);
      // the 5th field of the line (3rd after the name) is the process group
      if (Number(f[2]) === pgid) ms += ticksMs(f);
    } catch {
      // gone meanwhile
    }
  }
  return ms;
}
