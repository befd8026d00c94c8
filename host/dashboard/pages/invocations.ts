import { isValidFunctionName } from "../../build/index.ts";
import { queryLogs, type LogEntry } from "../../logs/query.ts";
import { registryOps } from "../../registry/admin.ts";
import { render, type Ctx, type Dash } from "../context.ts";
import { bytes, ms, when } from "../format.ts";
import { h, type Safe } from "../html.ts";
import { BASE, badge, qs, table } from "../layout.ts";

const TRIGGERS = ["http", "event", "cron", "notify"];
const SINCE = ["5m", "15m", "1h", "6h", "24h", "7d"];
const SHOWN = 200;

interface Filters {
  fn: string | null;
  trigger: string | null;
  /** "ok", "failed" or null for any. */
  status: string | null;
  since: string;
}

function filters(c: Ctx): Filters {
  const fn = c.req.query("function") || null;
  const trigger = c.req.query("trigger") || null;
  const status = c.req.query("status") || null;
  const since = c.req.query("since") || "1h";
  return {
    fn: fn && isValidFunctionName(fn) ? fn : null,
    trigger: trigger && TRIGGERS.includes(trigger) ? trigger : null,
    status: status === "ok" || status === "failed" ? status : null,
    since: SINCE.includes(since) ? since : "1h",
  };
}

const failed = (e: LogEntry) => e.status !== "ok" || e.httpStatus >= 500;

/** The ledger's filters the query cannot express (trigger, any failure) are applied to what it returns. */
function keep(f: Filters): (e: LogEntry) => boolean {
  return (e) => (!f.trigger || e.trigger === f.trigger) && (f.status !== "failed" || failed(e));
}

function row(e: LogEntry): Safe {
  return h`<tr>
<td><a href="${BASE}/invocations/${e.id}"><time datetime="${e.startedAt}">${when(e.startedAt)}</time></a></td>
<td><a href="${BASE}/functions/${e.functionName}">${e.functionName}</a></td>
<td>${e.trigger}</td>
<td>${badge(e.status)} ${e.trigger === "http" ? h`<span class="mono">${e.httpStatus}</span>` : ""}</td>
<td class="num">${ms(e.durationMs)}</td>
<td class="num hide-sm">${ms(e.cpuMs)}</td>
<td class="num hide-sm">${bytes(e.memoryBytes)}</td>
<td class="hide-sm">${e.logs.length ? `${e.logs.length} line${e.logs.length === 1 ? "" : "s"}` : ""}${e.error ? h` <span class="muted">${e.error.message.slice(0, 80)}</span>` : ""}</td>
</tr>`;
}

/** Newest first. */
function rowsHtml(entries: LogEntry[]): Safe {
  return h`${entries.slice().reverse().map(row)}`;
}

/** The live invocation log with filters; new rows arrive through the feed without a reload. */
export async function invocationsPage(c: Ctx, d: Dash): Promise<Response> {
  const f = filters(c);
  const post = Boolean(f.trigger || f.status === "failed");
  const [result, fns] = await Promise.all([
    queryLogs(d.deps.db, { name: f.fn ?? undefined, since: f.since, status: f.status === "ok" ? "ok" : undefined, limit: post ? 2000 : SHOWN }),
    registryOps["functions.list"](d.admin, {}) as Promise<{ name: string }[]>,
  ]);
  const entries = result.invocations.filter(keep(f)).slice(-SHOWN);
  const select = (name: string, label: string, options: string[], value: string | null, any: string | null) =>
    h`<div class="field"><label for="f-${name}">${label}</label><select id="f-${name}" name="${name}" data-autosubmit>${any === null ? "" : h`<option value="">${any}</option>`}${options.map((o) => h`<option${o === value ? h` selected` : ""}>${o}</option>`)}</select></div>`;
  const feed = `${BASE}/invocations/feed${qs({ function: f.fn, trigger: f.trigger, status: f.status })}`;
  const body = h`<form method="get" class="filters" action="${BASE}/invocations">
${select("function", "Function", fns.map((x) => x.name), f.fn, "any")}
${select("trigger", "Trigger", TRIGGERS, f.trigger, "any")}
${select("status", "Status", ["ok", "failed"], f.status, "any")}
${select("since", "Since", SINCE, f.since, null)}
<button type="submit" class="secondary">Filter</button>
<button type="button" id="live-toggle" class="secondary" aria-pressed="false" hidden>Pause live</button>
<span id="live-status" class="live" role="status" aria-live="polite"></span>
</form>
${table(
  `Newest first; up to ${SHOWN} since ${f.since}`,
  ["Started", "Function", "Trigger", "Status", "Duration", "CPU", "Memory", "Console / error"],
  entries.slice().reverse().map(row),
  "No invocations match yet; new ones appear here as they happen.",
  h` data-feed="${feed.includes("?") ? `${feed}&` : `${feed}?`}" data-cursor="${result.cursor}"`,
)}`;
  return render(c, { title: "Invocations", section: "invocations" }, body);
}

/** Invocations written after a cursor, as table rows: what the page polls (the way `hangar logs --follow` does). */
export async function invocationFeed(c: Ctx, d: Dash): Promise<Response> {
  const f = filters(c);
  const after = c.req.query("after") ?? "0";
  if (!/^\d{1,19}$/.test(after)) return c.json({ error: { code: "USAGE", message: `after must be a cursor, got "${after}"` } }, 400);
  const result = await queryLogs(d.deps.db, { name: f.fn ?? undefined, after, status: f.status === "ok" ? "ok" : undefined, limit: 500 });
  const entries = result.invocations.filter(keep(f));
  return c.json({ cursor: result.cursor, count: entries.length, html: rowsHtml(entries).s.replace(/<tr>/g, '<tr class="new">') });
}
