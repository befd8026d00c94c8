import type { Hono } from "hono";
import { ADMIN_OPS } from "./admin-ops.ts";
import type { HangarConfig } from "../config/index.ts";
import { startScheduler } from "../cron/index.ts";
import { migrate, openDb, type Db } from "../db/index.ts";
import { adminRoutes } from "../http/admin.ts";
import { createApp } from "../http/app.ts";
import { createAuthenticator } from "../http/auth.ts";
import { functionRoutes, routedFunctions } from "../http/functions.ts";
import type { Logger } from "../log/logger.ts";
import { createLogWriter, fanout, logRotationJob } from "../logs/index.ts";
import type { InvocationRecorder } from "../logs/types.ts";
import { createMetrics, metricsRoutes } from "../metrics/index.ts";
import { startEventDispatcher, startNotifyListener } from "../triggers/index.ts";
import { HANGAR_VERSION } from "../version.ts";
import { createCore, type Core } from "./core.ts";
import { mountDashboard } from "../dashboard/index.ts";
import { listen } from "./http-server.ts";

export interface ServerOptions {
  config: HangarConfig;
  logger: Logger;
  /** Use this database instead of opening one (tests); the server does not close it. */
  db?: Db;
  /** dev: include guest stacks in error responses. */
  dev?: boolean;
  /** Also receives every finished invocation (dev prints them in the terminal). */
  recorder?: InvocationRecorder;
}

export interface HangarServer {
  url: string;
  port: number;
  db: Db;
  core: Core;
  app: Hono;
  /** Graceful: stop accepting, finish in-flight work, close everything. Safe twice. */
  close(): Promise<void>;
}

/** Compose one instance: database, migrations, registry, sandbox, HTTP. */
export async function startServer({ config, logger, db: given, dev, recorder }: ServerOptions): Promise<HangarServer> {
  const db =
    given ??
    (await openDb({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      nodeId: config.nodeId,
      settings: config.db,
      onWait: (r) => logger.warn(r.message, { attempt: r.attempt, database: r.target }),
      onClientError: (err) => logger.warn("database session lost", { err: err.message }),
      onWarn: (message) => logger.warn(message),
    }));
  const closers: (() => Promise<void>)[] = given ? [] : [() => db.close()];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch((err) => logger.error("close failed", { err }));
  };
  try {
    const { applied, version } = await migrate(db);
    if (applied.length) logger.info("migrated", { applied, version });
    const logWriter = createLogWriter({ db, logger, nodeId: config.nodeId });
    // Closers run in reverse: the writer flushes after the core has finished its last invocation.
    closers.push(() => logWriter.close());
    const metrics = createMetrics({ db, logStats: () => logWriter.stats(), defaultLabels: { node: config.nodeId } });
    const core = await createCore({ db, config, logger, recorder: fanout(logWriter, metrics.recorder, recorder) });
    closers.push(() => core.close());
    metrics.setSources({ warmInstances: () => core.runtime.stats().instances });
    const functions = () => core.registry.list();
    // Cron, and Hangar's own maintenance (log partition rotation) on the same exactly-once ledger.
    const scheduler = await startScheduler({
      db,
      invoker: core.invoker,
      functions,
      nodeId: config.nodeId,
      logger,
      options: { defaultWallMs: config.defaultLimits.wallMs, deadAfterMs: config.cronDeadAfterMs, maxRunsPerSecond: config.cronMaxRunsPerSecond },
      internalJobs: [logRotationJob(db, config.logRetentionDays, logger)],
    });
    closers.push(() => scheduler.close());
    metrics.setSources({ cronStats: () => scheduler.stats() });
    const events = await startEventDispatcher({
      db,
      invoker: core.invoker,
      functions,
      nodeId: config.nodeId,
      logger: logger.child({ component: "events" }),
      options: { defaultWallMs: config.defaultLimits.wallMs, concurrencyPerFunction: config.eventConcurrency },
    });
    closers.push(() => events.close());
    const notify = await startNotifyListener({ db, invoker: core.invoker, functions, nodeId: config.nodeId, logger: logger.child({ component: "notify" }) });
    closers.push(() => notify.close());
    const offChange = core.registry.onChange(() => {
      scheduler.refresh();
      events.wake();
      void notify.refresh();
    });
    closers.push(async () => void offChange());
    const authenticate = createAuthenticator({ jwtSecret: config.jwtSecret, jwksUrl: config.jwksUrl, audience: config.jwtAudience, issuer: config.jwtIssuer, db });
    const app = createApp({
      db,
      version: HANGAR_VERSION,
      nodeId: config.nodeId,
      expose: dev,
      onUnexpected: (err, requestId) => logger.error("request failed", { requestId, err }),
      mount(app) {
        app.route("/_hangar/metrics", metricsRoutes(metrics.registry, [config.adminToken, config.metricsToken]));
        app.route(
          "/functions/v1",
          functionRoutes({ invoker: core.invoker, lookup: (n) => core.registry.get(n), authenticate, maxBodyBytes: config.maxBodyBytes, expose: dev }),
        );
        app.route(
          "/_hangar/api",
          adminRoutes({ token: config.adminToken, ops: ADMIN_OPS, context: { db, config, runtime: core.runtime, registry: core.registry, invoker: core.invoker } }),
        );
        mountDashboard(app, { db, config, version: HANGAR_VERSION, runtime: core.runtime, registry: core.registry, invoker: core.invoker });
        // config.routes: Workers-style mounts, URL unchanged; unmatched requests fall through to what follows.
        app.route("/", routedFunctions({ invoker: core.invoker, route: (h, p) => core.registry.route(h, p), authenticate, maxBodyBytes: config.maxBodyBytes, expose: dev }));
      },
    });
    const http = await listen(app, config.port, config.hostname);
    // In-flight requests get up to their wall-clock limit to finish.
    closers.push(() => http.close(config.defaultLimits.wallMs));
    let closing: Promise<void> | null = null;
    return {
      url: http.url,
      port: http.port,
      db,
      core,
      app,
      close() {
        closing ??= closeAll();
        return closing;
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
