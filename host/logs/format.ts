import type { LogEntry } from "./query.ts";

const time = (iso: string) => iso.replace("T", " ").replace("Z", "");

function duration(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

/** One invocation for a person: a head line, its console lines indented, then a failure's (source-mapped) stack. */
export function formatEntry(e: LogEntry): string[] {
  const status = e.status === "ok" ? `ok ${e.httpStatus}` : `${e.status} ${e.httpStatus}`;
  const out = [`${time(e.startedAt)}  ${e.functionName}  ${e.trigger}  ${status}  ${duration(e.durationMs)}  ${e.requestId}`];
  for (const l of e.logs) {
    const [first, ...rest] = l.message.split("\n");
    out.push(`    ${time(l.time).slice(11)} ${l.level.padEnd(5)} ${first}`);
    for (const r of rest) out.push(`          ${" ".repeat(12)}${r}`);
  }
  if (e.error) {
    const stack = e.error.stack && e.error.stack.includes(e.error.message) ? e.error.stack : [e.error.message, e.error.stack].filter(Boolean).join("\n");
    for (const line of stack.replace(/\s+$/, "").split("\n")) out.push(`  ! ${line}`);
  }
  return out;
}
