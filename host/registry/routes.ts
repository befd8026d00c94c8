// config.routes across functions: conflicts refused at deploy, and the table HTTP matches against.
import { parseRoute, routeKey, routeMatches, sortRoutes, type RoutePattern } from "../build/routes.ts";
import type { FunctionConfig } from "../build/index.ts";
import type { Sql } from "../db/index.ts";
import { lockKey } from "../db/lock-key.ts";
import { UserError } from "../errors.ts";
import type { ActiveFunction } from "./types.ts";

function patternsOf(config: FunctionConfig): RoutePattern[] {
  const out: RoutePattern[] = [];
  for (const p of config.routes ?? []) {
    const r = parseRoute(p);
    if ("value" in r) out.push(r.value);
  }
  return out;
}

/**
 * Refuses to activate `config` when one of its routes is already served by another active function.
 * Runs in the switch transaction; a lock orders deploys that claim routes, so two cannot both win.
 */
export async function checkRoutes(tx: Sql, name: string, config: FunctionConfig): Promise<void> {
  const mine = patternsOf(config);
  if (!mine.length) return;
  await tx.query("select pg_advisory_xact_lock($1::int8)", [lockKey("hangar:routes")]);
  const { rows } = await tx.query<{ name: string; routes: string[] }>(
    `select f.name, v.config->'routes' as routes from hangar.functions f join hangar.versions v on v.id = f.active_version
     where f.name <> $1 and jsonb_typeof(v.config->'routes') = 'array' and jsonb_array_length(v.config->'routes') > 0`,
    [name],
  );
  const taken = new Map<string, { fn: string; pattern: string }>();
  for (const row of rows) for (const p of patternsOf({ routes: row.routes } as FunctionConfig)) taken.set(routeKey(p), { fn: row.name, pattern: p.pattern });
  const clashes = mine.flatMap((p) => {
    const other = taken.get(routeKey(p));
    return other ? [`config.routes: "${p.pattern}" is already served by function "${other.fn}" ("${other.pattern}")`] : [];
  });
  if (clashes.length) throw new UserError(clashes.map((c) => `function "${name}": ${c}`).join("\n"), "ROUTE_CONFLICT", 409);
}

/** Active functions' routes, most specific first: the first match serves the request. */
export class RouteTable {
  private readonly entries: { route: RoutePattern; fn: ActiveFunction }[];
  constructor(functions: Iterable<ActiveFunction>) {
    const all: { route: RoutePattern; fn: ActiveFunction }[] = [];
    for (const fn of functions) for (const route of patternsOf(fn.config)) all.push({ route, fn });
    this.entries = sortRoutes(all);
  }

  get size(): number {
    return this.entries.length;
  }

  /** The function serving `hostname` + `pathname`, if any route matches. */
  match(hostname: string, pathname: string): ActiveFunction | undefined {
    for (const e of this.entries) if (routeMatches(e.route, hostname, pathname)) return e.fn;
    return undefined;
  }
}
