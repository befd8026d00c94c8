import { servesHttp } from "../../build/config.ts";
import { h, type Safe } from "../html.ts";

interface ConfigLike {
  schedule?: string | null;
  timezone?: string;
  events?: { schema: string; table: string; ops: string[] }[];
  listen?: string[];
  routes?: unknown;
  auth?: string;
  limits?: Record<string, number>;
  handlers?: string[];
}

/** A function's triggers, one line each: HTTP URL, routes, table events, NOTIFY channels, schedule. */
export function triggerList(name: string, config: ConfigLike, origin: string, compact = false): Safe {
  const url = `${origin}/functions/v1/${name}`;
  const items: Safe[] = [];
  if (servesHttp(config.handlers)) items.push(h`<li>HTTP <a href="${url}" class="mono">${compact ? `/functions/v1/${name}` : url}</a>${config.auth && config.auth !== "public" ? h` <span class="muted">(auth: ${config.auth})</span>` : ""}</li>`);
  const routes = Array.isArray(config.routes) ? config.routes.filter((r): r is string => typeof r === "string") : [];
  for (const r of routes) items.push(h`<li>route <code>${r}</code></li>`);
  for (const e of config.events ?? []) items.push(h`<li>event <code>${e.schema}.${e.table}:${e.ops.join(",")}</code></li>`);
  for (const ch of config.listen ?? []) items.push(h`<li>listen <code>${ch}</code></li>`);
  if (config.schedule) items.push(h`<li>schedule <code>${config.schedule}</code> <span class="muted">${config.timezone ?? "UTC"}</span></li>`);
  return h`<ul class="plain">${items}</ul>`;
}

export type { ConfigLike };
