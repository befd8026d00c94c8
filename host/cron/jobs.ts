import { isInfrastructureError } from "../db/index.ts";
import { coerceError } from "../errors.ts";
import type { Invoker } from "../invoke/types.ts";
import type { ActiveFunction } from "../registry/types.ts";
import type { CronJob, InternalJob } from "./types.ts";

/** A deployed function's schedule as a job: each run is one `scheduled` invocation through the shared Invoker. */
export function functionJob(f: ActiveFunction, invoker: Invoker, defaultWallMs: number): CronJob | null {
  const schedule = f.config.schedule;
  if (!schedule) return null;
  return {
    name: f.name,
    schedule,
    timezone: f.config.timezone ?? "UTC",
    overlap: f.config.overlap ?? "skip",
    catchUp: f.config.catchUp ?? "latest",
    wallMs: f.config.limits?.wallMs ?? defaultWallMs,
    versionId: f.versionId,
    delivery: f.config.delivery ?? "at-least-once",
    async run({ runId, scheduledAt, sqlSession }) {
      try {
        const result = await invoker.invoke({
          functionName: f.name,
          trigger: "cron",
          kind: "scheduled",
          // Cloudflare's ScheduledEvent: scheduledTime in ms since the epoch, cron as written.
          payload: { name: f.name, scheduledTime: scheduledAt.getTime(), cron: schedule, runId },
          sqlSession,
        });
        return {
          requestId: result.requestId,
          error: result.error ? `${result.error.code}: ${result.error.message}` : null,
          // A host binding failure (or a host error) caused by the database link or a pool cap is not the handler's.
          infra: Boolean(result.error) && (result.error!.kind === "host" || result.error!.kind === "internal") && isInfrastructureError(result.error!.message),
        };
      } catch (err) {
        return { requestId: null, error: coerceError(err).message, infra: isInfrastructureError(err) };
      }
    },
  };
}

export const INTERNAL_NAME_RE = /^_[a-z0-9][a-z0-9-]{0,62}$/;

/** One of Hangar's own jobs; the leading "_" keeps its ledger rows apart from any function's. */
export function internalJob(j: InternalJob, defaultWallMs: number): CronJob {
  if (!INTERNAL_NAME_RE.test(j.name)) throw new Error(`internal cron job name "${j.name}" must match ${INTERNAL_NAME_RE}`);
  return {
    name: j.name,
    schedule: j.schedule,
    timezone: j.timezone ?? "UTC",
    overlap: j.overlap ?? "skip",
    catchUp: j.catchUp ?? "latest",
    wallMs: j.wallMs ?? defaultWallMs,
    versionId: null,
    delivery: "at-least-once",
    async run(ctx) {
      try {
        await j.fn(ctx);
        return { requestId: null, error: null };
      } catch (err) {
        return { requestId: null, error: coerceError(err).message, infra: isInfrastructureError(err) };
      }
    },
  };
}
