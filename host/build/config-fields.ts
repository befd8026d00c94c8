// Parsers for the structured config values: table events, channels, limits, egress hosts.
// Each returns the normalised value or a reason string; config.ts attaches the key path.
import type { Limits } from "../../runtime/types.ts";

export type EventOp = "insert" | "update" | "delete";
export const EVENT_OPS: readonly EventOp[] = ["insert", "update", "delete"];

/** A durable table-change trigger. */
export interface TableEventSpec {
  schema: string;
  table: string;
  /** Non-empty, in insert/update/delete order. */
  ops: EventOp[];
}

export const IDENTIFIER_RE = /^[a-zA-Z_][a-zA-Z0-9_$]{0,62}$/;
// Triggers there would see Hangar's own bookkeeping or the catalog.
const RESERVED_SCHEMAS = new Set(["hangar", "pg_catalog", "information_schema"]);

export type Parsed<T> = { value: T } | { reason: string };

/** `schema.table:op[,op]`, `table:op` (schema public), or without `:ops` meaning all three. */
export function parseEventSpec(spec: string): Parsed<TableEventSpec> {
  const colon = spec.indexOf(":");
  const target = (colon < 0 ? spec : spec.slice(0, colon)).trim();
  const opsText = colon < 0 ? "" : spec.slice(colon + 1).trim();
  const parts = target.split(".");
  if (parts.length > 2) return { reason: `bad table name "${target}": expected "table" or "schema.table"` };
  const [schema, table] = parts.length === 2 ? [parts[0]!, parts[1]!] : ["public", parts[0]!];
  for (const id of [schema, table]) {
    if (!IDENTIFIER_RE.test(id)) {
      return { reason: `bad table name "${target}": "${id}" is not a valid identifier (letters, digits, _ and $, not starting with a digit, at most 63 characters)` };
    }
  }
  if (RESERVED_SCHEMAS.has(schema.toLowerCase())) return { reason: `schema "${schema}" is reserved` };
  if (colon >= 0 && opsText === "") return { reason: `no operations after ":" in "${spec}" (omit ":" for all of insert, update, delete)` };
  const ops = new Set<EventOp>();
  for (const raw of opsText ? opsText.split(",") : EVENT_OPS) {
    const op = raw.trim().toLowerCase();
    if (!(EVENT_OPS as readonly string[]).includes(op)) {
      return { reason: `unknown operation "${raw.trim()}" in "${spec}" (expected insert, update or delete)` };
    }
    ops.add(op as EventOp);
  }
  return { value: { schema, table, ops: EVENT_OPS.filter((o) => ops.has(o)) } };
}

/** A LISTEN channel name: identifier rules, at most 63 characters. */
export function parseChannel(name: string): Parsed<string> {
  if (!IDENTIFIER_RE.test(name)) {
    return { reason: `bad channel name "${name}": letters, digits, _ and $, not starting with a digit, at most 63 characters` };
  }
  // Hangar's own wake-ups (hangar_events, hangar_registry, ...): a function neither hears nor fakes them.
  if (/^hangar_/i.test(name)) return { reason: `channel "${name}" is reserved (hangar_* channels are Hangar's own)` };
  return { value: name };
}

/** Inclusive bounds per limit; all are positive integers. */
export const LIMIT_RANGES: Record<keyof Limits, readonly [number, number]> = {
  cpuMs: [1, 60_000],
  wallMs: [1, 900_000],
  memoryMb: [8, 1024],
  subrequests: [1, 1000],
  concurrency: [1, 10_000],
};

export function parseLimit(key: keyof Limits, v: unknown): Parsed<number> {
  const [min, max] = LIMIT_RANGES[key];
  if (typeof v !== "number" || !Number.isInteger(v)) return { reason: `expected an integer, got ${describe(v)}` };
  if (v < min || v > max) return { reason: `${v} is out of range (${min} to ${max})` };
  return { value: v };
}

const LABEL_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A hostname (`api.example.com`) or a wildcard over its subdomains (`*.example.com`); lowercased. */
export function parseEgressHost(entry: string): Parsed<string> {
  let host = entry.trim().toLowerCase();
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(host)) return { reason: `"${entry}" is a URL; write the host only, e.g. "${host.replace(/^[a-z][a-z0-9+.-]*:\/\//, "").split(/[/:]/)[0]}"` };
  // "host:port" allows that port only; a bare host allows its default ports (80/443).
  const port = /:(\d{1,5})$/.exec(host)?.[1];
  if (port !== undefined) {
    if (Number(port) < 1 || Number(port) > 65535) return { reason: `"${entry}": port ${port} is out of range (1 to 65535)` };
    const inner = parseEgressHost(host.slice(0, -port.length - 1));
    return "reason" in inner ? inner : { value: `${inner.value}:${Number(port)}` };
  }
  if (host.includes("/") || host.includes(":")) return { reason: `"${entry}" is not a hostname (no paths; a port as "host:443")` };
  if (host.endsWith(".")) host = host.slice(0, -1);
  const wildcard = host.startsWith("*.");
  const name = wildcard ? host.slice(2) : host;
  const labels = name.split(".");
  if (name.length === 0 || name.length > 253 || !labels.every((l) => LABEL_RE.test(l))) {
    return { reason: `"${entry}" is not a hostname (a "*." prefix is the only wildcard allowed)` };
  }
  if (/^\d+$/.test(labels[labels.length - 1]!)) return { reason: `"${entry}" is an IP address; egress names hosts` };
  if (wildcard && labels.length < 2) return { reason: `"${entry}" is too broad; a wildcard needs at least two labels after "*."` };
  return { value: host };
}

/** Short type description for messages. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === "number" || typeof v === "boolean") return `${typeof v} ${String(v)}`;
  return typeof v === "object" ? "an object" : typeof v;
}
