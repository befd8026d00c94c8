// Test doubles for the function side only (never for Postgres): a scheduled
// "function" is a TypeScript callback behind the Invoker interface.
import type { FunctionConfig } from "../../host/build/index.ts";
import type { Db } from "../../host/db/index.ts";
import type { InvokeRequest, InvokeResult, Invoker } from "../../host/invoke/types.ts";
import type { ActiveFunction } from "../../host/registry/types.ts";

export function fn(name: string, config: Partial<FunctionConfig>, versionId = "1"): ActiveFunction {
  return {
    name,
    versionId,
    version: 1,
    hash: "test",
    config: {
      schedule: null, timezone: "UTC", overlap: "skip", catchUp: "latest", events: [], listen: [],
      delivery: "at-least-once", auth: "public", limits: {}, egress: null, ...config,
    },
  };
}

export interface Call {
  functionName: string;
  scheduledTime: number;
  runId: string;
  cron: string;
  name: string;
}

/** An Invoker whose "functions" are callbacks; records every scheduled call. */
export function callbackInvoker(handlers: Record<string, (call: Call) => Promise<void> | void> = {}) {
  const calls: Call[] = [];
  const invoker: Invoker = {
    async invoke(req: InvokeRequest): Promise<InvokeResult> {
      const p = req.payload as Omit<Call, "functionName">;
      const call = { functionName: req.functionName, ...p };
      calls.push(call);
      const base = { requestId: `req-${calls.length}`, functionName: req.functionName, versionId: "1", stats: { cpuMs: 0, wallMs: 0, memoryBytes: 0 } };
      try {
        await handlers[req.functionName]?.(call);
        return { ...base, value: null };
      } catch (err) {
        return { ...base, error: { kind: "threw", message: (err as Error).message, code: "GUEST_THREW" } };
      }
    },
  };
  return { invoker, calls, callsOf: (name: string) => calls.filter((c) => c.functionName === name) };
}

export { waitFor } from "../helpers/wait.ts";

export interface LedgerRow {
  scheduled_at: Date;
  status: string;
  node_id: string;
  reason: string | null;
  error: string | null;
  catch_up: boolean;
  run_id: string;
}

export async function ledger(db: Db, name: string): Promise<LedgerRow[]> {
  const { rows } = await db.query<LedgerRow>(
    "select scheduled_at, status, node_id, reason, error, catch_up, run_id from hangar.cron_runs where function_name = $1 order by scheduled_at",
    [name],
  );
  return rows;
}

export async function cursorOf(db: Db, name: string): Promise<Date | null> {
  const { rows } = await db.query<{ c: Date }>("select last_scheduled_at as c from hangar.cron_state where function_name = $1", [name]);
  return rows[0]?.c ?? null;
}

export const iso = (d: Date | number) => new Date(d).toISOString();
