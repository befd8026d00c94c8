import { cronOps, type CronListItem, type CronRun } from "../../cron/admin.ts";
import { render, type Ctx, type Dash } from "../context.ts";
import { ago, inZone, ms, when } from "../format.ts";
import { h } from "../html.ts";
import { BASE, badge, qs, table } from "../layout.ts";

const kind = (s: string) => (s === "succeeded" ? "good" : s === "queued" || s === "running" || s === "skipped" ? "wait" : "bad");

/** Schedules with their next occurrence in their own zone, and each one's run history as a timeline. */
export async function cronPage(c: Ctx, d: Dash): Promise<Response> {
  const { now, schedules } = (await cronOps["cron.list"](d.admin, {})) as { now: string; schedules: CronListItem[] };
  const selected = c.req.query("name") || null;
  const runsOf = new Map<string, CronRun[]>();
  await Promise.all(
    schedules.map(async (s) => {
      const { runs } = (await cronOps["cron.runs"](d.admin, { name: s.name, limit: s.name === selected ? 200 : 48 })) as { runs: CronRun[] };
      runsOf.set(s.name, runs);
    }),
  );
  const list = table(
    `${schedules.length} schedule${schedules.length === 1 ? "" : "s"}; database clock ${when(now)}`,
    ["Function", "Schedule", "Next occurrence (its zone)", "Last run", "History (oldest → newest)"],
    schedules.map((s) => {
      const runs = (runsOf.get(s.name) ?? []).slice().reverse();
      return h`<tr><th scope="row">${s.internal ? s.name : h`<a href="${BASE}/functions/${s.name}">${s.name}</a>`}</th>
<td><code>${s.schedule}</code>${s.internal ? h` <span class="muted">(Hangar)</span>` : ""}</td>
<td><time datetime="${s.next ?? ""}">${inZone(s.next, s.timezone)}</time> <span class="muted">${s.next ? ago(s.next, Date.parse(now)) : ""}</span></td>
<td>${s.lastRun ? h`${badge(s.lastRun.status)} <span class="muted">${ago(s.lastRun.scheduledAt, Date.parse(now))}</span>` : h`<span class="muted">none yet</span>`}</td>
<td><div class="timeline" role="list" aria-label="Runs of ${s.name}">${runs.map((r) =>
        h`<a role="listitem" class="${kind(r.status)}" href="${BASE}/cron${qs({ name: s.name })}#run-${r.runId}" title="${when(r.scheduledAt)}: ${r.status}${r.reason ? ` (${r.reason})` : ""}" aria-label="${when(r.scheduledAt)}: ${r.status}"></a>`)}</div>
<a href="${BASE}/cron${qs({ name: s.name })}">runs</a></td></tr>`;
    }),
    "No scheduled functions.",
  );
  const runs = selected ? runsOf.get(selected) : undefined;
  const detail = runs
    ? h`<h2>Runs of ${selected}</h2>${table(
        `Newest ${runs.length} occurrences`,
        ["Scheduled", "Status", "Instance", "Duration", "Version", "Error or reason"],
        runs.map((r) => h`<tr id="run-${r.runId}"><td>${when(r.scheduledAt)}${r.catchUp ? h` <span class="muted">catch-up</span>` : ""}</td><td>${badge(r.status)}</td>
<td class="mono">${r.node}</td><td class="num">${ms(r.durationMs)}</td><td>${r.version === null ? "" : `v${r.version}`}</td><td class="muted">${r.error ?? r.reason ?? ""}</td></tr>`),
      )}`
    : "";
  return render(c, { title: "Cron", section: "cron" }, h`${list}${detail}`);
}
