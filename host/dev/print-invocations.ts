import { formatBytes } from "../util/bytes.ts";
import type { InvocationRecord, InvocationRecorder } from "../logs/types.ts";

const clock = (d: Date) => d.toISOString().slice(11, 23);

/** Format one finished invocation for the dev terminal: a head line, then its console lines and a failure's stack. */
export function formatInvocation(rec: InvocationRecord): string[] {
  const status = rec.status === "ok" ? String(rec.httpStatus) : `${rec.httpStatus} ${rec.status}`;
  const sent = rec.streamed ? ` (streamed ${formatBytes(rec.responseBytes)})` : "";
  const out = [`${clock(rec.startedAt)} ${rec.trigger} ${rec.functionName} ${status} ${rec.durationMs.toFixed(1)} ms${sent}`];
  for (const l of rec.logs) {
    const [first, ...rest] = l.message.split("\n");
    out.push(`  ${l.level === "log" || l.level === "info" ? "|" : l.level} ${first}`);
    for (const r of rest) out.push(`    ${r}`);
  }
  if (rec.error) {
    const stack = rec.error.stack && rec.error.stack.includes(rec.error.message) ? rec.error.stack : [rec.error.message, rec.error.stack].filter(Boolean).join("\n");
    for (const line of stack.replace(/\s+$/, "").split("\n")) out.push(`  ! ${line}`);
  }
  return out;
}

/** `hangar dev`: every invocation and its console lines, printed in the terminal as it finishes. */
export function printInvocations(write: (line: string) => void): InvocationRecorder {
  return {
    record(rec) {
      for (const line of formatInvocation(rec)) write(line);
    },
  };
}
