import type { EventKind, FailureKind, IncomingRequest, InvocationStats, TriggerKind } from "../../runtime/types.ts";
import type { Sql } from "../db/index.ts";
import type { ActiveFunction } from "../registry/index.ts";

/** One call of a function, whatever caused it. Every trigger kind goes through `Invoker.invoke`. */
export interface InvokeRequest {
  /**
   * The version to run, as the trigger resolved (and, for HTTP, authorised)
   * it: this very version runs, even if another is deployed meanwhile.
   * Without it `functionName` is looked up here (triggers with no auth step).
   */
  fn?: ActiveFunction;
  functionName: string;
  trigger: TriggerKind;
  /** HTTP trigger: the request as the guest should see it (full original URL). */
  request?: Request | IncomingRequest;
  /** Non-HTTP triggers: which handler and its JSON-like payload. */
  kind?: EventKind;
  payload?: unknown;
  requestId?: string;
  /** The client's own x-request-id (HTTP), stored beside the server-made requestId for correlation. */
  correlationId?: string | null;
  /** Verified JWT claims (auth: "jwt"), visible to the guest as ctx.auth and to SQL. */
  auth?: Record<string, unknown> | null;
  /**
   * Exactly-once delivery: the guest's `sql` runs on this session, inside the
   * caller's open transaction, so its effects commit with the caller's claim.
   */
  sqlSession?: Sql;
  /**
   * HTTP: why the host refuses the request although the function ran, if it
   * does (a streamed body passed HANGAR_MAX_BODY_BYTES before the function
   * answered): asked once, when it has answered; the result is then that
   * refusal (a "too-large" error) and is recorded as such.
   */
  refused?: () => string | null;
}

/**
 * Why an invocation did not give the handler's answer: one of the guest's
 * failures, or the invoker's own (nothing deployed, the function's queue or
 * the sandbox memory budget full, an unexpected host error).
 */
export type InvokeErrorKind = FailureKind | "not-found" | "concurrency" | "memory-budget" | "too-large" | "internal";

export interface InvokeError {
  kind: InvokeErrorKind;
  /** Stable error code (SPEC §5): GUEST_THREW, CPU_LIMIT, NOT_FOUND, ... */
  code: string;
  message: string;
  /** The guest's stack, mapped to its sources when a source map exists. */
  stack?: string;
  /** A failure worth retrying after this many seconds (queue or budget full). */
  retryAfterS?: number;
}

/** What invoke returns: neutral, each trigger kind maps it (HTTP statuses live in host/http). */
export interface InvokeResult {
  requestId: string;
  functionName: string;
  /** The version that ran, or null when none is deployed. */
  versionId: string | null;
  /** HTTP trigger, handler answered: the guest's response (framing not yet checked). */
  response?: Response;
  /** Non-HTTP triggers, handler answered: its resolved value. */
  value?: unknown;
  /** Set when the handler did not answer. */
  error?: InvokeError;
  stats: InvocationStats;
}

export interface Invoker {
  invoke(req: InvokeRequest): Promise<InvokeResult>;
}
