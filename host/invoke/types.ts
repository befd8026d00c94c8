import type { EventKind, GuestFailure, InvocationStats, TriggerKind } from "../../runtime/types.ts";
import type { Sql } from "../db/index.ts";

/** One call of a function, whatever caused it. Every trigger kind goes through `Invoker.invoke`. */
export interface InvokeRequest {
  functionName: string;
  trigger: TriggerKind;
  /** HTTP trigger: the request as the guest should see it (full original URL). */
  request?: Request;
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
}

export interface InvokeResult {
  requestId: string;
  functionName: string;
  /** The version that ran, or null when none is deployed. */
  versionId: string | null;
  /** HTTP status for the outcome (200.. from the guest, or 404/500/502/504/546). */
  status: number;
  /** HTTP trigger: the response to send (guest's, or the error JSON). */
  response?: Response;
  /** Non-HTTP triggers: the handler's resolved value. */
  value?: unknown;
  error?: GuestFailure & { code: string };
  stats: InvocationStats;
}

export interface Invoker {
  invoke(req: InvokeRequest): Promise<InvokeResult>;
}
