import type { FailureKind } from "../../runtime/types.ts";

/** HTTP status and stable error code for each way a guest can fail (SPEC §5). */
export const FAILURES: Record<FailureKind, { status: number; code: string }> = {
  threw: { status: 500, code: "GUEST_THREW" },
  "no-handler": { status: 500, code: "NO_HANDLER" },
  "bad-response": { status: 500, code: "BAD_RESPONSE" },
  host: { status: 502, code: "BINDING_FAILED" },
  wall: { status: 504, code: "WALL_TIME_LIMIT" },
  cpu: { status: 546, code: "CPU_LIMIT" },
  memory: { status: 546, code: "MEMORY_LIMIT" },
  stack: { status: 546, code: "STACK_LIMIT" },
  restarted: { status: 503, code: "SANDBOX_RESTARTED" },
};
