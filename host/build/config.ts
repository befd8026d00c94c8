import type { Limits } from "../../runtime/types.ts";
import { type ConfigIssue, ConfigError } from "./errors.ts";
import { describe, LIMIT_RANGES, parseChannel, parseEgressHost, parseEventSpec, parseLimit, type Parsed, type TableEventSpec } from "./config-fields.ts";
import { parseRoute } from "./routes.ts";
import { parseSchedule } from "./schedule.ts";

/** A function's `export const config`, validated and with defaults filled (SPEC §3). */
export interface FunctionConfig {
  /** Cron pattern as written (trimmed), or null when the function has no schedule. */
  schedule: string | null;
  timezone: string;
  overlap: "skip" | "allow";
  catchUp: "none" | "latest" | "all";
  events: TableEventSpec[];
  listen: string[];
  delivery: "at-least-once" | "exactly-once";
  auth: "public" | "jwt" | "key";
  /** Only the limits the function set; the host merges its defaults. */
  limits: Partial<Limits>;
  /** Hosts `fetch` may reach (`*.x.com` wildcards); null means any public address. */
  egress: string[] | null;
  /** Database role the function's SQL runs as (row-level security applies); null: the unprivileged `hangar_guest`. */
  role?: string | null;
  /** Workers-style routes (`/api/*`, `api.example.com/*`) also serving the fetch handler, URL unchanged; absent in old versions. */
  routes?: string[];
  /** The handlers the module exports (fetch, scheduled, event, notify), recorded at deploy; absent in versions deployed before. */
  handlers?: string[];
}

/** Whether a version serves HTTP: it exports a fetch handler (assumed for versions deployed before handlers were recorded). */
export function servesHttp(handlers: readonly string[] | undefined): boolean {
  return !handlers || handlers.includes("fetch");
}

const ENUMS = {
  overlap: ["skip", "allow"],
  catchUp: ["none", "latest", "all"],
  delivery: ["at-least-once", "exactly-once"],
  auth: ["public", "jwt", "key"],
} as const;
const KEYS = ["schedule", "timezone", "overlap", "catchUp", "events", "listen", "delivery", "auth", "limits", "egress", "role", "routes"];

/** Validates `raw` (the module's exported config, or undefined) and fills defaults; throws ConfigError listing every problem. */
export function validateConfig(fnName: string, raw: unknown): FunctionConfig {
  const out: FunctionConfig = {
    schedule: null, timezone: "UTC", overlap: "skip", catchUp: "latest", events: [], listen: [],
    delivery: "at-least-once", auth: "public", limits: {}, egress: null, role: null, routes: [],
  };
  if (raw === undefined || raw === null) return out;
  const issues: ConfigIssue[] = [];
  const bad = (path: string, reason: string) => issues.push({ path, reason });
  if (!isPlainObject(raw)) {
    throw new ConfigError(fnName, [{ path: "config", reason: `expected an object, got ${describe(raw)}` }]);
  }

  for (const key of Object.keys(raw)) {
    if (!KEYS.includes(key)) bad(`config.${key}`, `unknown key${suggest(key, KEYS)}; known keys: ${KEYS.join(", ")}`);
  }
  const str = (key: string): string | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== "string") return void bad(`config.${key}`, `expected a string, got ${describe(v)}`);
    return v;
  };

  const tz = str("timezone");
  if (tz !== undefined) {
    if (isTimeZone(tz)) out.timezone = tz;
    else bad("config.timezone", `unknown time zone "${tz}" (expected an IANA name like "Europe/Berlin")`);
  }
  const schedule = str("schedule");
  if (schedule !== undefined) {
    try {
      const cron = parseSchedule(schedule, out.timezone);
      if (cron.nextRun() === null) bad("config.schedule", `cron "${schedule}" never fires`);
      else out.schedule = schedule.trim();
    } catch (e) {
      bad("config.schedule", `invalid cron "${schedule}": ${cronReason(e)}`);
    }
  }
  for (const key of Object.keys(ENUMS) as (keyof typeof ENUMS)[]) {
    const v = str(key);
    if (v === undefined) continue;
    const allowed: readonly string[] = ENUMS[key];
    if (allowed.includes(v)) (out as unknown as Record<string, string>)[key] = v;
    else bad(`config.${key}`, `expected one of ${allowed.map((a) => `"${a}"`).join(", ")}, got "${v}"`);
  }

  const events = stringList(raw.events, "config.events", parseEventSpec, bad);
  if (events) out.events = mergeEvents(events);
  const listen = stringList(raw.listen, "config.listen", parseChannel, bad);
  if (listen) out.listen = [...new Set(listen)];
  const role = str("role");
  if (role !== undefined) {
    if (/^[a-z_][a-z0-9_]{0,62}$/.test(role)) out.role = role;
    else bad("config.role", `"${role}" is not a plain role name (lowercase letters, digits, underscores)`);
  }
  const egress = stringList(raw.egress, "config.egress", parseEgressHost, bad);
  if (egress) out.egress = [...new Set(egress)];
  const routes = stringList(raw.routes, "config.routes", parseRoute, bad);
  if (routes) out.routes = [...new Set(routes.map((r) => r.pattern))];

  if (raw.limits !== undefined) {
    if (!isPlainObject(raw.limits)) bad("config.limits", `expected an object, got ${describe(raw.limits)}`);
    else {
      const names = Object.keys(LIMIT_RANGES);
      for (const [k, v] of Object.entries(raw.limits)) {
        if (!names.includes(k)) { bad(`config.limits.${k}`, `unknown limit${suggest(k, names)}; known limits: ${names.join(", ")}`); continue; }
        if (v === undefined) continue;
        const r = parseLimit(k as keyof Limits, v);
        if ("value" in r) out.limits[k as keyof Limits] = r.value;
        else bad(`config.limits.${k}`, r.reason);
      }
    }
  }
  if (issues.length) throw new ConfigError(fnName, issues);
  return out;
}

function stringList<T>(v: unknown, path: string, parse: (s: string) => Parsed<T>, bad: (p: string, r: string) => void): T[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) return void bad(path, `expected an array of strings, got ${describe(v)}`);
  const out: T[] = [];
  v.forEach((item, i) => {
    if (typeof item !== "string") return bad(`${path}[${i}]`, `expected a string, got ${describe(item)}`);
    const r = parse(item);
    if ("value" in r) out.push(r.value);
    else bad(`${path}[${i}]`, r.reason);
  });
  return out;
}

// "orders:insert" and "orders:update" on one table become one trigger with both ops.
function mergeEvents(specs: TableEventSpec[]): TableEventSpec[] {
  const byTable = new Map<string, TableEventSpec>();
  for (const s of specs) {
    const key = `${s.schema}.${s.table}`;
    const prev = byTable.get(key);
    if (!prev) byTable.set(key, { ...s, ops: [...s.ops] });
    else prev.ops = (["insert", "update", "delete"] as const).filter((o) => prev.ops.includes(o) || s.ops.includes(o));
  }
  return [...byTable.values()];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  // toString, not the prototype: config objects may come from another realm (vm, sandbox copy).
  return typeof v === "object" && v !== null && Object.prototype.toString.call(v) === "[object Object]";
}

/** True when `tz` is an IANA zone this Node knows. */
export function isTimeZone(tz: string): boolean {
  if (tz.trim() === "") return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function cronReason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/^Cron(Pattern|Date)?:\s*/, "");
}

function suggest(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean "${best}"?)` : "";
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
