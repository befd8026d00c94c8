import { h, type Safe } from "./html.ts";
import type { Session } from "./session.ts";

export const BASE = "/_hangar";

const NAV: [string, string][] = [
  ["functions", "Functions"],
  ["invocations", "Invocations"],
  ["charts", "Charts"],
  ["events", "Events"],
  ["cron", "Cron"],
  ["secrets", "Secrets"],
  ["fleet", "Health"],
];

export interface PageOptions {
  title: string;
  /** Which nav entry is current. */
  section?: string;
  session?: Session | null;
  /** A one-line outcome of the last action (shown once, announced to screen readers). */
  notice?: { kind: "ok" | "error"; text: string } | null;
}

/** The page shell: head, nav, notice, content. */
export function page(o: PageOptions, body: Safe): string {
  const nav = o.session
    ? h`<nav aria-label="Sections"><ul>${NAV.map(([k, label]) =>
        h`<li><a href="${BASE}/${k}"${o.section === k ? h` aria-current="page"` : ""}>${label}</a></li>`)}</ul>
        <form method="post" action="${BASE}/logout" class="logout"><input type="hidden" name="_csrf" value="${o.session.csrf}"><button type="submit" class="link">Log out</button></form></nav>`
    : "";
  return h`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · Hangar</title><link rel="stylesheet" href="${BASE}/assets/app.css"><script src="${BASE}/assets/app.js" defer></script>
${o.session ? h`<meta name="csrf-token" content="${o.session.csrf}">` : ""}</head>
<body><a class="skip" href="#main">Skip to content</a>
<header><a class="brand" href="${BASE}/">Hangar</a>${nav}</header>
<main id="main" tabindex="-1"><h1>${o.title}</h1>
${o.notice ? h`<p class="notice ${o.notice.kind}" role="${o.notice.kind === "error" ? "alert" : "status"}">${o.notice.text}</p>` : ""}
${body}</main></body></html>`.s;
}

/** A table that scrolls sideways on a phone instead of breaking the page. */
export function table(caption: string, head: string[], rows: Safe[], empty = "Nothing yet.", tbody: Safe = h``): Safe {
  return h`<div class="scroll" role="region" aria-label="${caption}" tabindex="0"><table><caption>${caption}</caption>
<thead><tr>${head.map((c) => h`<th scope="col">${c}</th>`)}</tr></thead>
<tbody${tbody}>${rows.length ? rows : h`<tr class="empty"><td colspan="${head.length}" class="muted">${empty}</td></tr>`}</tbody></table></div>`;
}

/** A POST form carrying the session's CSRF token. */
export function form(session: Session, action: string, inner: Safe, cls = "", confirm = ""): Safe {
  return h`<form method="post" action="${action}"${cls ? h` class="${cls}"` : ""}${confirm ? h` data-confirm="${confirm}"` : ""}><input type="hidden" name="_csrf" value="${session.csrf}">${inner}</form>`;
}

/** Status as a badge that does not rely on colour alone. */
export function badge(status: string): Safe {
  const kind = /^(ok|succeeded|done|active)$/.test(status) ? "good" : /^(pending|running|queued|skipped)$/.test(status) ? "wait" : "bad";
  return h`<span class="badge ${kind}">${status}</span>`;
}

/** Query-string helper for links keeping current filters. */
export function qs(params: Record<string, string | number | null | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : "";
}
