import { render, type Ctx, type Dash } from "../context.ts";
import { invocation } from "../data.ts";
import { bytes, ms, when } from "../format.ts";
import { h } from "../html.ts";
import { BASE, badge, qs, table } from "../layout.ts";

/** One invocation: ids, timings, resources, console lines and the source-mapped stack. */
export async function invocationPage(c: Ctx, d: Dash): Promise<Response> {
  const id = c.req.param("id")!;
  const inv = await invocation(d.deps.db, id);
  if (!inv) {
    return render(c, { title: "Not found", section: "invocations" }, h`<p>No invocation <code>${id}</code> (it may be past the log retention). <a href="${BASE}/invocations">All invocations</a></p>`, 404);
  }
  const body = h`<dl class="facts">
<dt>Function</dt><dd><a href="${BASE}/functions/${inv.functionName}">${inv.functionName}</a>${inv.version === null ? "" : ` v${inv.version}`}</dd>
<dt>Status</dt><dd>${badge(inv.status)}${inv.trigger === "http" ? h` HTTP <span class="mono">${inv.httpStatus}</span>` : ""}</dd>
<dt>Trigger</dt><dd>${inv.trigger}</dd>
<dt>Request id</dt><dd class="mono">${inv.requestId}</dd>
<dt>Invocation id</dt><dd class="mono">${inv.id}</dd>
<dt>Started</dt><dd><time datetime="${inv.startedAt.toISOString()}">${when(inv.startedAt)}</time></dd>
<dt>Duration</dt><dd>${ms(inv.durationMs)}${inv.streamed ? " (to the streamed body's last byte)" : ""}</dd>
${inv.responseBytes === null ? "" : h`<dt>Response body</dt><dd>${bytes(inv.responseBytes)}${inv.streamed ? " streamed" : ""}</dd>`}
<dt>CPU</dt><dd>${ms(inv.cpuMs)}</dd>
<dt>Memory</dt><dd>${bytes(inv.memoryBytes)}</dd>
<dt>Instance</dt><dd class="mono">${inv.nodeId}</dd>
</dl>
${inv.error ? h`<h2>Error</h2><p>${inv.error.message}</p>${inv.error.stack ? h`<pre aria-label="Stack trace (source-mapped)">${inv.error.stack}</pre>` : ""}` : ""}
<h2>Console</h2>
${table(
  `${inv.logs.length} console line${inv.logs.length === 1 ? "" : "s"}`,
  ["Time", "Level", "Message"],
  inv.logs.map((l) => h`<tr><td class="mono">${when(l.time)}</td><td>${l.level}</td><td><pre class="line">${l.message}</pre></td></tr>`),
  "The function printed nothing.",
)}
<p><a href="${BASE}/invocations${qs({ function: inv.functionName })}">More of ${inv.functionName}</a></p>`;
  return render(c, { title: `Invocation of ${inv.functionName}`, section: "invocations" }, body);
}
