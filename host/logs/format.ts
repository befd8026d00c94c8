import { formatBytes } from "../util/bytes.ts";
import type { LogEntry } from "./query.ts";

const time = (iso: string) => iso.replace("T", " ").replace("Z", "");

function duration(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

// Guest output is data, never terminal commands: C0 controls (but newline
// and tab), DEL, C1 controls (0x9b is a one-byte CSI) and bidi overrides
// are shown as \u escapes, so a console line cannot move the cursor, retitle
// the window, hide text or forge other lines.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Control characters of `s` as visible `\uXXXX` escapes (newlines kept). */
export function escapeControls(s: string): string {
  return s.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * One invocation for a person: a head line, its console lines indented, then
 * a failure's (source-mapped) stack. Control characters are escaped unless
 * `escape: false` (raw output for a pipe that wants the bytes).
 */
export function formatEntry(e: LogEntry, opts: { escape?: boolean } = {}): string[] {
  const x = opts.escape === false ? (s: string) => s : escapeControls;
  const status = e.status === "ok" ? `ok ${e.httpStatus}` : `${x(e.status)} ${e.httpStatus}`;
  const corr = e.correlationId ? `  (client id ${x(e.correlationId)})` : "";
  const sent = e.streamed ? `  streamed ${formatBytes(e.responseBytes)}` : "";
  const out = [`${time(e.startedAt)}  ${x(e.functionName)}  ${x(e.trigger)}  ${status}  ${duration(e.durationMs)}${sent}  ${x(e.requestId)}${corr}`];
  for (const l of e.logs) {
    const [first, ...rest] = x(l.message).split("\n");
    out.push(`    ${time(l.time).slice(11)} ${x(l.level).padEnd(5)} ${first}`);
    for (const r of rest) out.push(`          ${" ".repeat(12)}${r}`);
  }
  if (e.error) {
    const stack = e.error.stack && e.error.stack.includes(e.error.message) ? e.error.stack : [e.error.message, e.error.stack].filter(Boolean).join("\n");
    for (const line of x(stack).replace(/\s+$/, "").split("\n")) out.push(`  ! ${line}`);
  }
  return out;
}
