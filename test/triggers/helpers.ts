// Test doubles of a deployed function (never of Postgres): an Invoker that
// runs a TypeScript callback, and ActiveFunction records for configs.
import type { TableEventSpec } from "../../host/build/index.ts";
import type { Sql } from "../../host/db/index.ts";
import type { InvokeRequest, InvokeResult, Invoker } from "../../host/invoke/types.ts";
import type { ActiveFunction } from "../../host/registry/types.ts";

export type Handler = (req: InvokeRequest & { sql: Sql }) => Promise<unknown>;

/** An Invoker whose functions are callbacks; a throw becomes a 500 "threw" failure, as the sandbox reports it. */
export function callbackInvoker(db: Sql, handlers: Record<string, Handler>): Invoker & { calls: InvokeRequest[] } {
  const calls: InvokeRequest[] = [];
  return {
    calls,
    async invoke(req) {
      calls.push(req);
      const base = { requestId: `req-${calls.length}`, functionName: req.functionName, versionId: "1", stats: { cpuMs: 0, wallMs: 0, memoryBytes: 0 } };
      const h = handlers[req.functionName];
      if (!h) return { ...base, versionId: null, error: { kind: "not-found", message: "not deployed", code: "NOT_FOUND" } } satisfies InvokeResult;
      try {
        const value = await h({ ...req, sql: req.sqlSession ?? db });
        return { ...base, value };
      } catch (err) {
        return { ...base, error: { kind: "threw", message: (err as Error).message, code: "GUEST_THREW" } };
      }
    },
  };
}

export function activeFunction(name: string, cfg: { events?: TableEventSpec[]; listen?: string[]; delivery?: "at-least-once" | "exactly-once"; wallMs?: number }): ActiveFunction {
  return {
    name,
    versionId: "1",
    version: 1,
    hash: "h",
    config: {
      schedule: null, timezone: "UTC", overlap: "skip", catchUp: "latest",
      events: cfg.events ?? [], listen: cfg.listen ?? [], delivery: cfg.delivery ?? "at-least-once",
      auth: "public", limits: cfg.wallMs ? { wallMs: cfg.wallMs } : {}, egress: null,
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `check` until it returns true or `ms` passes. */
export async function waitFor(check: () => Promise<boolean> | boolean, ms = 15_000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
