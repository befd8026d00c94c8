import type { InvocationRecord, InvocationRecorder } from "./types.ts";

/** One recorder feeding several (the log writer and the metrics); one failing never stops the others. */
export function fanout(...recorders: (InvocationRecorder | null | undefined)[]): InvocationRecorder {
  const all = recorders.filter((r): r is InvocationRecorder => !!r);
  return {
    record(rec: InvocationRecord) {
      for (const r of all) {
        try {
          r.record(rec);
        } catch {
          // Recorders must not throw; if one does, the invocation still completes and the others still record.
        }
      }
    },
  };
}
