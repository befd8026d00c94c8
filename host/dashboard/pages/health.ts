import { render, type Ctx, type Dash } from "../context.ts";
import { fleet, roundTrip } from "../data.ts";
import { ago, bytes, ms, when } from "../format.ts";
import { h } from "../html.ts";
import { table } from "../layout.ts";

/** The fleet as the database sees it, this instance's database round trip, pool and warm sandboxes. */
export async function healthPage(c: Ctx, d: Dash): Promise<Response> {
  const { db, config, version } = d.deps;
  const [rt, nodes] = await Promise.all([roundTrip(db), fleet(db)]);
  const pool = db.poolStats();
  const warm = d.deps.runtime?.stats();
  const now = rt.now.getTime();
  const body = h`<div class="cards">
<div class="card">Database<b>${db.kind === "pglite" ? "embedded" : "Postgres"}</b><span class="muted">${rt.server}</span></div>
<div class="card">Round trip<b>${ms(rt.ms)}</b></div>
<div class="card">Pool in use<b>${pool.total - pool.idle} / ${pool.total}</b><span class="muted">${pool.waiting} waiting</span></div>
<div class="card">Warm instances<b>${warm?.instances ?? "–"}</b><span class="muted">${warm ? `${bytes(warm.heapBytes)} sandbox heap` : ""}</span></div>
<div class="card">This instance<b class="mono">${config.nodeId}</b><span class="muted">Hangar ${version}</span></div>
</div>
<h2>Fleet</h2>
${table(
  `${nodes.length} instance${nodes.length === 1 ? "" : "s"} seen by the database in the last day`,
  ["Node", "Last seen", "Seen through", "Connections"],
  nodes.map((n) => h`<tr><th scope="row" class="mono">${n.nodeId}${n.nodeId === config.nodeId ? h` <span class="muted">(this one)</span>` : ""}</th>
<td><time datetime="${n.lastSeen.toISOString()}">${when(n.lastSeen)}</time> <span class="muted">${ago(n.lastSeen, now)}</span></td>
<td>${n.seenBy.join(", ")}</td><td class="num">${n.connections || ""}</td></tr>`),
  "No instance has left a trace yet.",
)}`;
  return render(c, { title: "Health", section: "fleet" }, body);
}
