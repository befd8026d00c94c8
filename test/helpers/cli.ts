import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const HANGAR_BIN = fileURLToPath(new URL("../../bin/hangar.js", import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the real `hangar` CLI in a child process. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HANGAR_BIN, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`hangar ${args.join(" ")} timed out\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** SIGTERM and wait; SIGKILL after `ms`. Safe twice. */
  stop(ms?: number): Promise<number | null>;
  kill(): Promise<void>;
}

/** Start `hangar <mode>` on a free port and wait until it serves health. */
export async function startServerProcess(args: string[], env: Record<string, string | undefined>, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [HANGAR_BIN, ...args, "--port", "0"], {
    cwd: opts.cwd,
    env: { ...process.env, HANGAR_LOG_FORMAT: "json", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    // a server that did not start is killed: left running, its pipes would keep the test process alive
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`server did not start:\n${out}`)); }, opts.timeoutMs ?? 60_000);
    const check = () => {
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  let stopping: Promise<number | null> | null = null;
  return {
    child,
    url,
    output: () => out,
    stop(ms = 10_000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), ms);
        const code = await exited;
        clearTimeout(t);
        return code;
      })();
      return stopping;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
