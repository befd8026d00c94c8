import type { Limits } from "../../runtime/types.ts";
import type { ActiveFunction } from "../registry/index.ts";

/** Invocations of one function at once when its config does not say. */
export const DEFAULT_CONCURRENCY = 64;

export type EffectiveLimits = Limits & { concurrency: number };

/** The limits one function runs under: its config's over the server's defaults. The one place they are merged. */
export function effectiveLimits(defaults: Limits, fn: Pick<ActiveFunction, "config">): EffectiveLimits {
  const limits = { ...defaults, ...fn.config.limits };
  return { ...limits, concurrency: limits.concurrency ?? DEFAULT_CONCURRENCY };
}
