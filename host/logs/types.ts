import type { ConsoleLevel, TriggerKind } from "../../runtime/types.ts";

export interface ConsoleLine {
  level: ConsoleLevel;
  message: string;
  time: Date;
}

/** One invocation, whatever triggered it: what the ledger stores and metrics count. */
export interface InvocationRecord {
  /** Time-ordered id (UUIDv7). */
  id: string;
  /** Server-made; the id clients and logs use. */
  requestId: string;
  /** The client's own x-request-id, kept for correlation only; never used as an id. */
  correlationId?: string | null;
  functionName: string;
  versionId: string | null;
  trigger: TriggerKind;
  /** "ok", or the failure code (GUEST_THREW, CPU_LIMIT, ...). */
  status: string;
  httpStatus: number;
  startedAt: Date;
  durationMs: number;
  cpuMs: number;
  memoryBytes: number;
  /** Bytes of the HTTP response body (a streamed one counted to its end); null for other triggers and failures. */
  responseBytes: number | null;
  /** The response body was a stream: duration, bytes and CPU time run to its last byte. */
  streamed: boolean;
  error: { message: string; stack?: string } | null;
  nodeId: string;
  logs: ConsoleLine[];
}

/** Receives every finished invocation. Must never block or throw. */
export interface InvocationRecorder {
  record(rec: InvocationRecord): void;
}
