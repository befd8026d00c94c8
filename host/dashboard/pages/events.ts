import { isValidFunctionName } from "../../build/index.ts";
import { eventOps, type EventSummary } from "../../triggers/admin.ts";
import { EVENT_STATUSES } from "../../triggers/queue.ts";
import { attempt, field, redirect, render, type Ctx, type Dash } from "../context.ts";
import { eventCountsByFunction, eventDetail } from "../data.ts";
import { ago, when } from "../format.ts";
import { h } from "../html.ts";
import { BASE, badge, form, qs, table } from "../layout.ts";

/** Backlog and dead letters per function, and the newest events with filters. */
export async function eventsPage(c: Ctx, d: Dash): Promise<Response> {
  const fnQ = c.req.query("function") || null;
  const fn = fnQ && isValidFunctionName(fnQ) ? fnQ : null;
  const statusQ = c.req.query("status") || null;
  const status = statusQ && (EVENT_STATUSES as readonly string[]).includes(statusQ) ? statusQ : null;
  const [counts, list] = await Promise.all([
    eventCountsByFunction(d.deps.db),
    eventOps["events.list"](d.admin, { function: fn, status, limit: 100 }) as Promise<{ events: EventSummary[] }>,
  ]);
  const session = c.get("session");
  const perFunction = table(
    "Backlog (pending and running) and dead letters per function",
    ["Function", "Backlog", "Dead", ""],
    [...counts].map(([name, n]) => h`<tr><th scope="row"><a href="${BASE}/events${qs({ function: name })}">${name}</a></th>
<td class="num">${n.backlog}</td><td class="num">${n.dead ? h`<a href="${BASE}/events${qs({ function: name, status: "dead" })}">${n.dead}</a>` : 0}</td>
<td>${n.dead ? form(session, `${BASE}/events/replay-dead`, h`<input type="hidden" name="function" value="${name}"><button type="submit" class="secondary">Replay ${n.dead} dead</button>`, "inline", `Replay all ${n.dead} dead events of ${name}?`) : ""}</td></tr>`),
    "No backlog and no dead letters.",
  );
  const statusLinks = h`<p>Show: ${[null, ...EVENT_STATUSES].map((s) =>
    s === status ? h`<strong>${s ?? "all"}</strong> ` : h`<a href="${BASE}/events${qs({ function: fn, status: s })}">${s ?? "all"}</a> `)}</p>`;
  const events = table(
    `Newest ${list.events.length} event${list.events.length === 1 ? "" : "s"}${fn ? ` of ${fn}` : ""}${status ? `, ${status}` : ""}`,
    ["Id", "Function", "Table", "Op", "Status", "Attempts", "Created", "Last error"],
    list.events.map((e) => h`<tr><td><a href="${BASE}/events/${e.id}">#${e.id}</a></td><td>${e.function}</td><td class="mono">${e.table}</td><td>${e.op}</td>
<td>${badge(e.status)}</td><td class="num">${e.attempts}</td><td>${ago(e.createdAt)}</td><td class="muted">${(e.lastError ?? "").slice(0, 100)}</td></tr>`),
  );
  return render(c, { title: "Events", section: "events" }, h`${perFunction}<h2>Events</h2>${statusLinks}${events}`);
}

/** One event: its payload (old and new rows), attempts and last error; replay when dead or done. */
export async function eventPage(c: Ctx, d: Dash): Promise<Response> {
  const id = c.req.param("id")!;
  const e = await eventDetail(d.deps.db, id);
  if (!e) return render(c, { title: "Not found", section: "events" }, h`<p>No event <code>#${id}</code>. <a href="${BASE}/events">All events</a></p>`, 404);
  const replayable = e.status === "dead" || e.status === "done";
  const body = h`<dl class="facts">
<dt>Function</dt><dd><a href="${BASE}/functions/${e.function}">${e.function}</a></dd>
<dt>Change</dt><dd><code>${e.op}</code> on <code>${e.table}</code>${e.rowKey ? h` key <code>${e.rowKey}</code>` : ""}</dd>
<dt>Status</dt><dd>${badge(e.status)}</dd>
<dt>Attempts</dt><dd>${e.attempts}</dd>
<dt>Created</dt><dd>${when(e.createdAt)}</dd>
<dt>${e.finishedAt ? "Finished" : "Next attempt"}</dt><dd>${when(e.finishedAt ?? e.runAfter)}</dd>
${e.lockedBy ? h`<dt>Claimed by</dt><dd class="mono">${e.lockedBy}</dd>` : ""}
</dl>
${e.lastError ? h`<h2>Last error</h2><pre>${e.lastError}</pre>` : ""}
<h2>Payload</h2>
${e.old !== null ? h`<h3>old</h3><pre>${JSON.stringify(e.old, null, 2)}</pre>` : ""}
${e.new !== null ? h`<h3>new</h3><pre>${JSON.stringify(e.new, null, 2)}</pre>` : ""}
${replayable ? form(c.get("session"), `${BASE}/events/${e.id}/replay`, h`<button type="submit">Replay event #${e.id}</button>`) : ""}`;
  return render(c, { title: `Event #${e.id}`, section: "events" }, body);
}

/** Replay one dead (or done) event: back to pending with its attempts reset. */
export async function replayEvent(c: Ctx, d: Dash): Promise<Response> {
  const id = c.req.param("id")!;
  const r = await attempt(() => eventOps["events.replay"](d.admin, { id }));
  return redirect(c, `/events/${id}`, "error" in r ? { err: r.error } : { ok: `Event #${id} is pending again.` });
}

/** Replay every dead event of one function. */
export async function replayAllDead(c: Ctx, d: Dash): Promise<Response> {
  const fn = field(c, "function");
  if (!isValidFunctionName(fn)) return redirect(c, "/events", { err: `"${fn}" is not a function name.` });
  let replayed = 0;
  // Bounded: events failing again while we replay must not keep this request going.
  for (let round = 0; round < 10; round++) {
    const { events } = (await eventOps["events.list"](d.admin, { function: fn, status: "dead", limit: 1000 })) as { events: EventSummary[] };
    if (!events.length) break;
    for (const e of events) {
      // One that a concurrent replay already took is not an error here.
      const r = await attempt(() => eventOps["events.replay"](d.admin, { id: e.id }));
      if (!("error" in r)) replayed++;
    }
    if (events.length < 1000) break;
  }
  return redirect(c, `/events${qs({ function: fn })}`, { ok: `Replayed ${replayed} dead event${replayed === 1 ? "" : "s"} of ${fn}.` });
}
