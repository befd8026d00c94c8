import { registryOps } from "../../registry/admin.ts";
import { originOf, render, type Ctx, type Dash } from "../context.ts";
import { eventCountsByFunction, functionStats } from "../data.ts";
import { ago, ms, pct } from "../format.ts";
import { h } from "../html.ts";
import { BASE, table } from "../layout.ts";
import { triggerList, type ConfigLike } from "./triggers.ts";

export interface FunctionListRow {
  name: string;
  version: number | null;
  hash: string | null;
  deployed_at: Date | null;
  deployed_by: string | null;
  config: ConfigLike | null;
  versions: number;
}

/** Every deployed function: active version, triggers, last hour's invocations and error rate. */
export async function functionsPage(c: Ctx, d: Dash): Promise<Response> {
  const [fns, stats, events] = await Promise.all([
    registryOps["functions.list"](d.admin, {}) as Promise<FunctionListRow[]>,
    functionStats(d.deps.db, 60),
    eventCountsByFunction(d.deps.db),
  ]);
  const origin = originOf(c);
  const rows = fns.map((f) => {
    const s = stats.get(f.name);
    const e = events.get(f.name);
    return h`<tr>
<th scope="row"><a href="${BASE}/functions/${f.name}">${f.name}</a></th>
<td>${f.version === null ? h`<span class="muted">none</span>` : `v${f.version}`} <span class="muted">of ${f.versions}</span></td>
<td>${f.config ? triggerList(f.name, f.config, origin, true) : ""}</td>
<td class="num">${s?.invocations ?? 0}</td>
<td class="num">${s && s.errors ? h`<span class="badge bad">${pct(s.errors, s.invocations)}</span>` : "0%"}</td>
<td class="num hide-sm">${ms(s?.p50)}</td>
<td class="num hide-sm">${e ? h`${e.backlog} / ${e.dead ? h`<a href="${BASE}/events?function=${f.name}&status=dead">${e.dead} dead</a>` : "0 dead"}` : ""}</td>
<td class="hide-sm">${f.deployed_at ? h`<time datetime="${new Date(f.deployed_at).toISOString()}">${ago(f.deployed_at)}</time> <span class="muted">by ${f.deployed_by}</span>` : ""}</td>
</tr>`;
  });
  const body = table(
    `${fns.length} function${fns.length === 1 ? "" : "s"}; figures over the last hour`,
    ["Function", "Active", "Triggers", "Invocations", "Errors", "p50", "Events backlog / dead", "Deployed"],
    rows,
    "No functions deployed yet: run `hangar deploy`.",
  );
  return render(c, { title: "Functions", section: "functions" }, body);
}
