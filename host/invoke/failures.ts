import type { InvokeErrorKind } from "./types.ts";

/** Stable error code for each way an invocation can fail (SPEC §5); statuses are the trigger's business. */
export const FAILURE_CODES: Record<InvokeErrorKind, string> = {
  threw: "GUEST_THREW",
  "no-handler": "NO_HANDLER",
  "bad-response": "BAD_RESPONSE",
  host: "BINDING_FAILED",
  wall: "WALL_TIME_LIMIT",
  cpu: "CPU_LIMIT",
  memory: "MEMORY_LIMIT",
  stack: "STACK_LIMIT",
  restarted: "SANDBOX_RESTARTED",
  "not-found": "NOT_FOUND",
  concurrency: "CONCURRENCY_LIMIT",
  "memory-budget": "MEMORY_BUDGET",
  "too-large": "PAYLOAD_TOO_LARGE",
  internal: "INTERNAL",
};
