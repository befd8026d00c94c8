import { availableParallelism } from "node:os";
import { randomBytes, randomUUID } from "node:crypto";
import { resolve } from "node:path";
import type { Limits } from "../../runtime/types.ts";
import { DEFAULT_DB_SETTINGS, type DbSettings } from "../db/settings.ts";
import { UsageError, UserError } from "../errors.ts";

/** Everything an instance or CLI command needs to know, resolved once. */
export interface HangarConfig {
  /** Postgres URL, or null for the embedded PGlite database under `dataDir`. */
  databaseUrl: string | null;
  dataDir: string;
  functionsDir: string;
  port: number;
  hostname: string;
  adminToken: string;
  /** True when the admin token was generated for this process (dev). */
  adminTokenGenerated: boolean;
  secretKey: string | null;
  jwtSecret: string | null;
  jwksUrl: string | null;
  nodeId: string;
  logRetentionDays: number;
  workers: number;
  /** Remote instance for CLI commands (`--url`), or null to use the database directly. */
  remoteUrl: string | null;
  /** Operator switch: let guest fetch reach loopback/private addresses. */
  fetchAllowPrivate: boolean;
  defaultLimits: Limits;
  maxBodyBytes: number;
  /** Sandbox worker threads running function instances (HANGAR_SANDBOX_THREADS; default: available cores). */
  sandboxThreads: number;
  /** Total memory of warm function instances, MiB (HANGAR_MEMORY_BUDGET_MB). */
  memoryBudgetMb: number;
  logFormat: "json" | "pretty";
  logLevel: "debug" | "info" | "warn" | "error";
  /** dev: values from `.env` / `--env-file`, given to every function as env (over stored secrets). */
  functionEnv: Record<string, string>;
  /** HANGAR_FUNCTION_ROLES: database roles `config.role` may name (comma-separated). */
  functionRoles: string[];
  /** HANGAR_JWT_AUDIENCE / HANGAR_JWT_ISSUER: required `aud` / `iss` of verified JWTs, or null. */
  jwtAudience: string | null;
  jwtIssuer: string | null;
  /** HANGAR_METRICS_TOKEN: a bearer token for /_hangar/metrics besides the admin token, or null. */
  metricsToken: string | null;
  /** A cron run whose instance stopped heartbeating this long is run again elsewhere (HANGAR_CRON_DEAD_AFTER_MS). */
  cronDeadAfterMs: number;
  /** Runs of scheduled functions started per second across the fleet; 0: no limit (HANGAR_CRON_MAX_RUNS_PER_SECOND). */
  cronMaxRunsPerSecond: number;
  /** Table events of one function an instance handles at once (HANGAR_EVENT_CONCURRENCY), within its limits.concurrency. */
  eventConcurrency: number;
  /** Pools, timeouts and start-up patience for the database (HANGAR_POOL_SIZE, HANGAR_GUEST_POOL_SIZE, ...). */
  db: DbSettings;
}

export type Flags = Record<string, string | boolean | undefined>;
type Env = Record<string, string | undefined>;

/** Table events of one function an instance handles at once, by default: handlers mostly wait on I/O. */
export const DEFAULT_EVENT_CONCURRENCY = 16;

export const DEFAULT_LIMITS: Limits = { cpuMs: 1000, wallMs: 30_000, memoryMb: 128, subrequests: 50, concurrency: 64 };

/** Resolve configuration from flags, then environment, then defaults. */
export function resolveConfig(mode: "dev" | "start" | "cli", flags: Flags = {}, env: Env = process.env): HangarConfig {
  const str = (flag: string | undefined, envName: string | undefined): string | undefined => {
    const f = flag === undefined ? undefined : flags[flag];
    if (typeof f === "string" && f !== "") return f;
    const e = envName === undefined ? undefined : env[envName];
    return e === undefined || e === "" ? undefined : e;
  };
  const int = (flag: string | undefined, envName: string | undefined, dflt: number, min: number, max: number): number => {
    const raw = str(flag, envName);
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      const where = flag && flags[flag] !== undefined ? `--${flag}` : envName;
      throw new UsageError(`${where} must be an integer from ${min} to ${max}, got "${raw}"`);
    }
    return n;
  };

  const adminToken = str("token", "HANGAR_ADMIN_TOKEN");
  const secretKey = str(undefined, "HANGAR_SECRET_KEY") ?? null;
  if (mode === "start" && !adminToken) throw new UsageError("HANGAR_ADMIN_TOKEN is required by `hangar start`");
  if (mode === "start" && !secretKey) throw new UsageError("HANGAR_SECRET_KEY is required by `hangar start`");
  const dataDir = resolve(str("data-dir", "HANGAR_DATA_DIR") ?? ".hangar");
  const logFormat = str("log-format", "HANGAR_LOG_FORMAT") ?? (mode === "dev" ? "pretty" : "json");
  if (logFormat !== "json" && logFormat !== "pretty") throw new UsageError(`HANGAR_LOG_FORMAT must be json or pretty, got "${logFormat}"`);
  const logLevel = str(undefined, "HANGAR_LOG_LEVEL") ?? "info";
  if (!["debug", "info", "warn", "error"].includes(logLevel)) throw new UsageError(`HANGAR_LOG_LEVEL must be debug, info, warn or error, got "${logLevel}"`);

  const databaseUrl = str("database-url", "DATABASE_URL") ?? null;
  if (databaseUrl !== null) checkDatabaseUrl(databaseUrl, flags["database-url"] !== undefined ? "--database-url" : "DATABASE_URL");
  return {
    databaseUrl,
    dataDir,
    functionsDir: resolve(str("dir", "HANGAR_FUNCTIONS_DIR") ?? "functions"),
    port: int("port", "HANGAR_PORT", 8787, 0, 65535),
    hostname: str("host", "HANGAR_HOST") ?? (mode === "dev" ? "127.0.0.1" : "0.0.0.0"),
    adminToken: adminToken ?? `dev_${randomBytes(18).toString("base64url")}`,
    adminTokenGenerated: !adminToken,
    // The embedded dev database gets a key derived from its directory so secrets survive restarts;
    // a real database never gets a made-up key (its secrets would be unreadable by `start`).
    secretKey: secretKey ?? (databaseUrl ? null : `dev-insecure-key:${dataDir}`),
    jwtSecret: str(undefined, "HANGAR_JWT_SECRET") ?? null,
    jwksUrl: str(undefined, "HANGAR_JWKS_URL") ?? null,
    nodeId: str(undefined, "HANGAR_NODE_ID") ?? `node-${randomUUID().slice(0, 8)}`,
    logRetentionDays: int(undefined, "HANGAR_LOG_RETENTION_DAYS", 7, 1, 3650),
    workers: int("workers", "HANGAR_WORKERS", 1, 1, 256),
    remoteUrl: str("url", "HANGAR_URL") ?? null,
    fetchAllowPrivate: ["1", "true", "yes"].includes((str(undefined, "HANGAR_FETCH_ALLOW_PRIVATE") ?? "").toLowerCase()),
    defaultLimits: { ...DEFAULT_LIMITS },
    maxBodyBytes: int(undefined, "HANGAR_MAX_BODY_BYTES", 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    sandboxThreads: int(undefined, "HANGAR_SANDBOX_THREADS", availableParallelism(), 1, 256),
    memoryBudgetMb: int(undefined, "HANGAR_MEMORY_BUDGET_MB", 1024, 64, 1024 * 1024),
    logFormat,
    logLevel: logLevel as HangarConfig["logLevel"],
    functionEnv: {},
    functionRoles: functionRoles(str(undefined, "HANGAR_FUNCTION_ROLES")),
    jwtAudience: str(undefined, "HANGAR_JWT_AUDIENCE") ?? null,
    jwtIssuer: str(undefined, "HANGAR_JWT_ISSUER") ?? null,
    metricsToken: str(undefined, "HANGAR_METRICS_TOKEN") ?? null,
    cronDeadAfterMs: int(undefined, "HANGAR_CRON_DEAD_AFTER_MS", 30_000, 1_000, 3_600_000),
    cronMaxRunsPerSecond: int(undefined, "HANGAR_CRON_MAX_RUNS_PER_SECOND", 100, 0, 1_000_000),
    eventConcurrency: int(undefined, "HANGAR_EVENT_CONCURRENCY", DEFAULT_EVENT_CONCURRENCY, 1, 1000),
    db: {
      poolSize: int(undefined, "HANGAR_POOL_SIZE", DEFAULT_DB_SETTINGS.poolSize, 2, 1000),
      guestPoolSize: int(undefined, "HANGAR_GUEST_POOL_SIZE", DEFAULT_DB_SETTINGS.guestPoolSize, 1, 1000),
      guestSessionsPerInvocation: int(undefined, "HANGAR_GUEST_SESSIONS_PER_INVOCATION", DEFAULT_DB_SETTINGS.guestSessionsPerInvocation, 1, 1000),
      guestSessionsPerFunction: int(undefined, "HANGAR_GUEST_SESSIONS_PER_FUNCTION", DEFAULT_DB_SETTINGS.guestSessionsPerFunction, 1, 1000),
      guestAcquireTimeoutMs: int(undefined, "HANGAR_GUEST_ACQUIRE_TIMEOUT_MS", DEFAULT_DB_SETTINGS.guestAcquireTimeoutMs, 1, 600_000),
      guestTxMaxMs: int(undefined, "HANGAR_GUEST_TX_MAX_MS", DEFAULT_DB_SETTINGS.guestTxMaxMs, 100, 3_600_000),
      connectTimeoutMs: int(undefined, "HANGAR_DB_CONNECT_TIMEOUT_MS", DEFAULT_DB_SETTINGS.connectTimeoutMs, 100, 600_000),
      statementTimeoutMs: int(undefined, "HANGAR_DB_STATEMENT_TIMEOUT_MS", DEFAULT_DB_SETTINGS.statementTimeoutMs, 100, 3_600_000),
      idleInTxTimeoutMs: int(undefined, "HANGAR_DB_IDLE_IN_TX_TIMEOUT_MS", DEFAULT_DB_SETTINGS.idleInTxTimeoutMs, 100, 3_600_000),
      waitMs: int(undefined, "HANGAR_DB_WAIT_MS", DEFAULT_DB_SETTINGS.waitMs, 0, 24 * 3_600_000),
      listenUrl: str(undefined, "HANGAR_LISTEN_URL") ?? null,
    },
  };
}

/** A connection string must be a postgres:// URL with a host; say so before pg fails with a DNS error about a fragment of it. */
function checkDatabaseUrl(url: string, where: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError(`${where} is not a valid URL: expected postgres://user:password@host:5432/database (percent-encode special characters in the password)`);
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    throw new UserError(`${where} must start with postgres:// or postgresql://, got "${u.protocol}//"`);
  }
  if (!u.hostname && !u.searchParams.get("host")) throw new UserError(`${where} names no host: expected postgres://user:password@host:5432/database`);
}

/** HANGAR_FUNCTION_ROLES as a list of plain role names; default `hangar_guest` alone. */
function functionRoles(raw: string | undefined): string[] {
  if (raw === undefined) return ["hangar_guest"];
  const names = raw.split(",").map((r) => r.trim()).filter(Boolean);
  for (const n of names) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(n)) throw new UsageError(`HANGAR_FUNCTION_ROLES: "${n}" is not a plain role name (lowercase letters, digits, underscores)`);
  }
  return names;
}
