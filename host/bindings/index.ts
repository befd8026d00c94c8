import type { HangarConfig } from "../config/index.ts";
import type { Db } from "../db/index.ts";
import type { BindingContext, InvocationBindings } from "../invoke/invoker.ts";
import { CacheStore, createCacheBindings } from "./cache/index.ts";
import { createFetchBinding } from "./fetch/index.ts";
import { createSqlBindings } from "./sql/index.ts";
import { createVectorBindings } from "./vector/index.ts";

export interface BindingFactoryDeps {
  db: Db;
  config: HangarConfig;
}

/** Build the host functions one invocation gets: sql, vector, fetch and cache, scoped to it. */
export function createBindingFactory(deps: BindingFactoryDeps): (ctx: BindingContext) => Promise<InvocationBindings> {
  // the Cache API's entries: one store per server process, every function's invocations on it
  const cache = new CacheStore();
  return async (ctx) => {
    const fetch = createFetchBinding({
      allowLoopback: deps.config.fetchAllowPrivate,
      allowPrivate: deps.config.fetchAllowPrivate,
      egress: ctx.fn.config.egress,
      maxRequests: ctx.fn.config.limits?.subrequests ?? deps.config.defaultLimits.subrequests,
    });
    // Guest SQL runs on the guest pool, within its per-invocation and per-function caps.
    const db = deps.db.guest({ functionName: ctx.fn.name, invocationId: ctx.requestId });
    const sql = createSqlBindings({ db, session: ctx.sqlSession, role: ctx.fn.config.role ?? null, claims: ctx.auth, allowedRoles: deps.config.functionRoles });
    const vector = createVectorBindings({
      db,
      sharedSession: sql.sharedSession,
      fnName: ctx.fn.name,
      role: ctx.fn.config.role ?? null,
      allowedRoles: deps.config.functionRoles,
    });
    return {
      functions: { ...sql.functions, ...vector.functions, fetch, "fetch.read": fetch.read, ...createCacheBindings(cache, ctx.fn.name) },
      close: async () => {
        await vector.close();
        await sql.close();
        await db.close();
      },
    };
  };
}
