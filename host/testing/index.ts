// `hangar/testing`: test your own functions in-process against a real database.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runSql } from "../admin/run-sql.ts";
import { resolveConfig } from "../config/index.ts";
import { openDb, type Db } from "../db/index.ts";
import { deployDir, formatDeploy } from "../dev/deploy-dir.ts";
import { createLogger } from "../log/logger.ts";
import type { InvocationRecord } from "../logs/types.ts";
import { registryOps } from "../registry/admin.ts";
import type { DeployResult } from "../registry/index.ts";
import { startServer, type HangarServer } from "../server/index.ts";

export interface TestHangarOptions {
  /** The functions folder to deploy (default `functions`). */
  dir?: string;
  /** Only these functions (default all in `dir`). */
  only?: string[];
  /** A Postgres to use (default: `DATABASE_URL`, else a fresh embedded PGlite in memory). */
  databaseUrl?: string;
  /** The functions' env (secrets and vars), as `.env` gives them in `hangar dev`. */
  env?: Record<string, string>;
}

export interface TableChange {
  table: string;
  schema?: string;
  op: "insert" | "update" | "delete";
  new?: Record<string, unknown> | null;
  old?: Record<string, unknown> | null;
}

/** A running Hangar for tests: its functions deployed, its triggers live (cron, table events); it listens on a free loopback port. */
export interface TestHangar {
  /** HTTP: a path such as `/functions/v1/hello?name=Ada` (or a full URL, or a Request). */
  fetch(input: string | Request, init?: RequestInit): Promise<Response>;
  /** Run a function's `scheduled` handler for one occurrence, as cron would at `at` (default now). Throws what it threw. */
  scheduled(name: string, at?: Date): Promise<void>;
  /** Run a function's `event` handler with one table change, as the dispatcher would. Throws what it threw. */
  event(name: string, change: TableChange): Promise<void>;
  /** SQL as the database owner (set-up and checks): one or more statements; the last one's rows. */
  sql<R = Record<string, unknown>>(script: string): Promise<R[]>;
  /** Console lines of finished invocations, oldest first (of one function if named). */
  logs(name?: string): string[];
  /** Wait until `check` returns something truthy (table events are delivered asynchronously). */
  until<T>(check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs?: number): Promise<T>;
  readonly db: Db;
  close(): Promise<void>;
}

/** Deploy a functions folder into a fresh Hangar for a test. */
export async function createTestHangar(opts: TestHangarOptions = {}): Promise<TestHangar> {
  const dir = resolve(opts.dir ?? "functions");
  const databaseUrl = opts.databaseUrl || process.env.DATABASE_URL || null;
  const scratch = await mkdtemp(join(tmpdir(), "hangar-testing-"));
  const base = resolveConfig("dev", { "data-dir": scratch, port: "0", dir }, {});
  const config = {
    ...base,
    databaseUrl,
    secretKey: base.secretKey ?? "hangar-testing-key",
    functionEnv: opts.env ?? {},
  };
  const db = databaseUrl ? await openDb({ databaseUrl, dataDir: scratch, nodeId: config.nodeId }) : await openDb({ databaseUrl: null, dataDir: "memory://", nodeId: config.nodeId });
  const records: InvocationRecord[] = [];
  // invocations are recorded when over (their waitUntil work included): a handler call waits for its record
  const recorded = new Map<string, () => void>();
  let server: HangarServer;
  try {
    server = await startServer({
      config,
      db,
      logger: createLogger({ format: "json", level: "error" }),
      dev: true,
      recorder: {
        record: (r) => {
          records.push(r);
          recorded.get(r.requestId)?.();
        },
      },
    });
    const reports = await deployDir(
      dir,
      opts.only ?? [],
      (args) => registryOps["functions.deploy"]({ db, config, runtime: server.core.runtime, actor: "test", dev: true }, args) as Promise<DeployResult>,
      async (_name, script) => void (await runSql(db, script)),
    );
    const failed = reports.filter((r) => r.error);
    if (failed.length) throw new Error(`deploy failed:\n${failed.map(formatDeploy).join("\n")}`);
    await server.core.registry.refresh(true);
  } catch (err) {
    await server!?.close();
    await db.close();
    await rm(scratch, { recursive: true, force: true });
    throw err;
  }

  const handler = async (name: string, trigger: "cron" | "event", kind: "scheduled" | "event", payload: unknown) => {
    const requestId = crypto.randomUUID();
    const over = new Promise<void>((resolve) => recorded.set(requestId, resolve));
    const result = await server.core.invoker.invoke({ functionName: name, trigger, kind, payload, requestId });
    try {
      await over;
    } finally {
      recorded.delete(requestId);
    }
    if (result.error) throw Object.assign(new Error(`${name}: ${result.error.code}: ${result.error.message}`), { stack: result.error.stack ?? undefined });
  };
  let closing: Promise<void> | null = null;
  return {
    db,
    async fetch(input, init) {
      const req = typeof input === "string" ? new Request(new URL(input, "http://localhost:8787"), init) : input;
      return server.app.request(req);
    },
    scheduled: (name, at = new Date()) =>
      handler(name, "cron", "scheduled", { name, scheduledTime: at.getTime(), cron: server.core.registry.get(name)?.config.schedule ?? "", runId: crypto.randomUUID() }),
    event: (name, c) =>
      handler(name, "event", "event", { id: crypto.randomUUID(), schema: c.schema ?? "public", table: c.table, op: c.op, old: c.old ?? null, new: c.new ?? null, attempt: 1 }),
    async sql<R>(script: string) {
      const { results } = await runSql(db, script);
      return (results[results.length - 1]?.rows ?? []) as R[];
    },
    logs: (name) => records.filter((r) => !name || r.functionName === name).flatMap((r) => r.logs.map((l) => l.message)),
    async until<T>(check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 10_000): Promise<T> {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const v = await check();
        if (v) return v as T;
        if (Date.now() > end) throw new Error("timed out waiting for the condition");
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close() {
      closing ??= (async () => {
        await server.close();
        await db.close();
        await rm(scratch, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
