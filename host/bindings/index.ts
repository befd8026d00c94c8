import { HOST_FUNCTION_NAMES, HostBindingError, type HostFunctions } from "../../runtime/types.ts";
import type { HangarConfig } from "../config/index.ts";
import type { Db, GuestDb } from "../db/index.ts";
import type { BindingContext, InvocationBindings } from "../invoke/invoker.ts";
import { CacheStore, createCacheBindings } from "./cache/index.ts";
import { createFetchBinding, type FetchBinding } from "./fetch/index.ts";
import { createSqlBindings, type SqlBindings } from "./sql/index.ts";
import { createVectorBindings, type VectorBindings } from "./vector/index.ts";

export interface BindingFactoryDeps {
  db: Db;
  config: HangarConfig;
}

/**
 * Build the host functions one invocation gets: sql, vector, fetch and cache,
 * scoped to it. Each group is made on its first call (a function that only
 * fetches makes no guest Db, SQL or vector state; one that only queries makes
 * no fetch state), and close() closes what was made.
 */
export function createBindingFactory(deps: BindingFactoryDeps): (ctx: BindingContext) => Promise<InvocationBindings> {
  // the Cache API's entries: one store per server process, every function's invocations on it
  const cache = new CacheStore();
  return async (ctx) => {
    let fetch: FetchBinding | undefined;
    let db: GuestDb | undefined;
    let sql: SqlBindings | undefined;
    let vector: VectorBindings | undefined;
    let cached: HostFunctions | undefined;
    const fetchBinding = () =>
      (fetch ??= createFetchBinding({
        allowLoopback: deps.config.fetchAllowPrivate,
        allowPrivate: deps.config.fetchAllowPrivate,
        egress: ctx.fn.config.egress,
        maxRequests: ctx.fn.config.limits?.subrequests ?? deps.config.defaultLimits.subrequests,
      }));
    // Guest SQL runs on the guest pool, within its per-invocation and per-function caps.
    const guestDb = () => (db ??= deps.db.guest({ functionName: ctx.fn.name, invocationId: ctx.requestId }));
    const sqlBindings = () =>
      (sql ??= createSqlBindings({ db: guestDb(), session: ctx.sqlSession, role: ctx.fn.config.role ?? null, claims: ctx.auth, allowedRoles: deps.config.functionRoles }));
    const vectorBindings = () =>
      (vector ??= createVectorBindings({
        db: guestDb(),
        // the session an open sql.begin holds (PGlite) or the exactly-once session: none while SQL was never used
        sharedSession: () => (sql ? sql.sharedSession() : (ctx.sqlSession ?? null)),
        fnName: ctx.fn.name,
        role: ctx.fn.config.role ?? null,
        allowedRoles: deps.config.functionRoles,
      }));
    const cacheBindings = () => (cached ??= createCacheBindings(cache, ctx.fn.name));
    const fetchFunctions = (): HostFunctions => ({ fetch: fetchBinding(), "fetch.read": fetchBinding().read });
    const groupOf = (name: string): (() => HostFunctions) =>
      name.startsWith("sql.") ? () => sqlBindings().functions
        : name.startsWith("vector.") ? () => vectorBindings().functions
          : name.startsWith("cache.") ? cacheBindings
            : fetchFunctions;
    let closed = false;
    const functions: HostFunctions = {};
    for (const name of HOST_FUNCTION_NAMES) {
      const group = groupOf(name);
      functions[name] = (args, info) => {
        // nothing is made after close(): it would never be closed
        if (closed) return Promise.reject(new HostBindingError("the invocation has ended: its bindings are closed", "BINDINGS_CLOSED"));
        return group()[name](args, info);
      };
    }
    return {
      functions,
      close: async () => {
        closed = true;
        await vector?.close();
        await sql?.close();
        await db?.close();
      },
    };
  };
}
