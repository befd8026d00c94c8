import { isValidFunctionName } from "../../build/index.ts";
import { registryOps } from "../../registry/admin.ts";
import { attempt, field, originOf, redirect, render, type Ctx, type Dash } from "../context.ts";
import { deployments, functionStats, eventCountsByFunction } from "../data.ts";
import { ago, ms, pct, when } from "../format.ts";
import { h } from "../html.ts";
import { BASE, badge, form, qs, table } from "../layout.ts";
import type { FunctionListRow } from "./functions.ts";
import { triggerList } from "./triggers.ts";

interface VersionRow {
  version: number;
  hash: string;
  created_at: Date;
  deployed_by: string;
  active: boolean;
}

async function find(d: Dash, name: string): Promise<FunctionListRow | undefined> {
  if (!isValidFunctionName(name)) return undefined;
  const all = (await registryOps["functions.list"](d.admin, {})) as FunctionListRow[];
  return all.find((f) => f.name === name);
}

function notFound(c: Ctx, name: string): Response {
  return render(c, { title: "Not found", section: "functions" }, h`<p>No function named <code>${name}</code>. <a href="${BASE}/functions">All functions</a></p>`, 404);
}

/** One function: active version, triggers, limits, last hour; versions with rollback; deployments. */
export async function functionPage(c: Ctx, d: Dash): Promise<Response> {
  const name = c.req.param("name")!;
  const fn = await find(d, name);
  if (!fn) return notFound(c, name);
  const [versions, deploys, stats, events] = await Promise.all([
    registryOps["functions.versions"](d.admin, { name }) as Promise<VersionRow[]>,
    deployments(d.deps.db, name),
    functionStats(d.deps.db, 60),
    eventCountsByFunction(d.deps.db),
  ]);
  const s = stats.get(name);
  const e = events.get(name);
  const limits = { ...d.deps.config.defaultLimits, ...(fn.config?.limits ?? {}) };
  const body = h`
<div class="cards">
<div class="card">Active version<b>${fn.version === null ? "none" : `v${fn.version}`}</b></div>
<div class="card">Invocations, last hour<b>${s?.invocations ?? 0}</b></div>
<div class="card">Error rate<b>${pct(s?.errors ?? 0, s?.invocations ?? 0)}</b></div>
<div class="card">p50 / p99<b>${s ? `${ms(s.p50)} / ${ms(s.p99)}` : "–"}</b></div>
${e ? h`<div class="card">Events backlog / dead<b>${e.backlog} / ${e.dead}</b></div>` : ""}
</div>
<p><a href="${BASE}/invocations${qs({ function: name })}">Invocations</a> · <a href="${BASE}/charts${qs({ function: name })}">Charts</a> · <a href="${BASE}/events${qs({ function: name })}">Events</a> · <a href="${BASE}/secrets">Secrets</a></p>
<h2>Triggers</h2>
${fn.config ? triggerList(name, fn.config, originOf(c)) : ""}
<h2>Limits</h2>
<dl class="facts">${Object.entries(limits).map(([k, v]) => h`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
<h2>Versions</h2>
${table(
  `${versions.length} version${versions.length === 1 ? "" : "s"}, newest first`,
  ["Version", "Hash", "Deployed", "By", ""],
  versions.map((v) => h`<tr>
<th scope="row">v${v.version} ${v.active ? badge("active") : ""}</th>
<td class="mono">${v.hash.slice(0, 12)}</td>
<td><time datetime="${new Date(v.created_at).toISOString()}">${when(v.created_at)}</time></td>
<td>${v.deployed_by}</td>
<td>${v.active ? "" : h`<a href="${BASE}/functions/${name}/rollback?to=${v.version}">Roll back to v${v.version}</a>`}</td></tr>`),
)}
<h2>Deployments</h2>
${table(
  "Deploys and rollbacks, newest first",
  ["When", "Action", "Version", "By"],
  deploys.map((x) => h`<tr><td><time datetime="${x.at.toISOString()}">${when(x.at)}</time> <span class="muted">${ago(x.at)}</span></td><td>${x.action}</td><td>v${x.version}</td><td>${x.actor}</td></tr>`),
)}`;
  return render(c, { title: `Function ${name}`, section: "functions" }, body);
}

/** The confirm step before a rollback. */
export async function rollbackConfirm(c: Ctx, d: Dash): Promise<Response> {
  const name = c.req.param("name")!;
  const fn = await find(d, name);
  if (!fn) return notFound(c, name);
  const to = Number(c.req.query("to"));
  if (!Number.isInteger(to) || to < 1) return redirect(c, `/functions/${name}`, { err: "Choose a version to roll back to." });
  const body = h`<p>Make <strong>v${to}</strong> the active version of <strong>${name}</strong> (now v${fn.version})? Every instance of the fleet switches within a second.</p>
${form(c.get("session"), `${BASE}/functions/${name}/rollback`, h`<input type="hidden" name="to" value="${to}">
<div class="row"><button type="submit" class="danger">Roll back to v${to}</button> <a href="${BASE}/functions/${name}">Cancel</a></div>`)}`;
  return render(c, { title: `Roll back ${name}?`, section: "functions" }, body);
}

/** Roll back to the chosen version through the registry's own operation. */
export async function rollbackPost(c: Ctx, d: Dash): Promise<Response> {
  const name = c.req.param("name")!;
  const to = field(c, "to");
  const r = await attempt(() => registryOps["functions.rollback"](d.admin, { name, to }) as Promise<{ version: number; unchanged: boolean }>);
  if ("error" in r) return redirect(c, `/functions/${name}`, { err: r.error });
  return redirect(c, `/functions/${name}`, { ok: r.value.unchanged ? `v${r.value.version} was already active.` : `Rolled back: v${r.value.version} is active.` });
}
