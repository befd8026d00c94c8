import { createHash } from "node:crypto";
import pg from "pg";
import type { TableEventSpec } from "../build/index.ts";
import type { Sql } from "../db/index.ts";
import { GUEST_ROLE } from "../bindings/sql/context.ts";
import { UserError } from "../errors.ts";

export type EventSpec = TableEventSpec;

/**
 * The base name of the triggers a function owns on each table it watches,
 * stable across deploys: the insert trigger's name; update and delete add
 * `_upd` and `_del` (transition tables need one trigger per operation).
 */
export function triggerName(fnName: string): string {
  const plain = `hangar_evt_${fnName}`;
  if (Buffer.byteLength(plain) <= 63 - SUFFIX_BYTES) return plain;
  // Postgres truncates identifiers at 63 bytes: keep names distinct with a hash
  // (sql/0008 computes the same name when it converts older triggers).
  const hash = createHash("sha256").update(fnName).digest("hex").slice(0, 10);
  return `hangar_evt_${fnName.slice(0, 36)}_${hash}`;
}

const SUFFIX_BYTES = 4;

/** Every trigger name a function may own on a table, by operation. */
export function triggerNames(fnName: string): Record<EventSpec["ops"][number], string> {
  const base = triggerName(fnName);
  return { insert: base, update: `${base}_upd`, delete: `${base}_del` };
}

/** What each operation's transition tables are called inside hangar.capture_events(). */
const REFERENCING: Record<EventSpec["ops"][number], string> = {
  insert: "new table as hangar_new",
  update: "old table as hangar_old new table as hangar_new",
  delete: "old table as hangar_old",
};

const q = (id: string) => pg.escapeIdentifier(id);

type Tracked = {
  schema_name: string;
  table_name: string;
  trigger_name: string;
};

export interface SyncOptions {
  /**
   * A watched table that does not exist: "error" (default) fails the deploy;
   * "skip" installs the rest and reports it in `missing` (for `hangar dev`,
   * which redeploys on save once the user has created the table).
   */
  missingTable?: "error" | "skip";
  /** The function's `config.role` (null: `hangar_guest`): it must be able to SELECT every watched table. */
  role?: string | null;
}

export interface SyncResult {
  /** "schema.table" names skipped because they do not exist (missingTable: "skip"). */
  missing: string[];
}

/**
 * Make `fnName`'s table triggers match `events`, inside the caller's deploy
 * transaction: create or replace one trigger per watched table, drop those it
 * no longer watches. Throws UserError when a table does not exist.
 */
export async function syncTableTriggers(tx: Sql, fnName: string, events: EventSpec[], opts: SyncOptions = {}): Promise<SyncResult> {
  const name = triggerName(fnName);
  const names = triggerNames(fnName);
  const wanted = new Set<string>();
  const missing: string[] = [];
  for (const spec of events) {
    refuseReserved(fnName, spec.schema, `${spec.schema}.${spec.table}`);
    const table = await resolveTable(tx, fnName, spec, opts.missingTable === "skip");
    if (!table) {
      missing.push(`${spec.schema}.${spec.table}`);
      continue;
    }
    refuseReserved(fnName, table.schema, `${spec.schema}.${spec.table}`);
    await assertReadable(tx, fnName, table, opts.role || GUEST_ROLE);
    wanted.add(`${table.schema}.${table.table}`);
    const rel = `${q(table.schema)}.${q(table.table)}`;
    const wantedNames = new Set(spec.ops.map((op) => names[op]));
    for (const old of await ownedTriggers(tx, fnName, table.schema, table.table)) {
      if (!wantedNames.has(old)) await tx.query(`drop trigger ${q(old)} on ${rel}`);
    }
    // One statement-level trigger per operation: a bulk change is captured in one INSERT ... SELECT (sql/0008).
    for (const op of new Set(spec.ops)) {
      await tx.query(
        `create or replace trigger ${q(names[op])} after ${op.toUpperCase()} on ${rel} referencing ${REFERENCING[op]} ` +
          `for each statement execute function hangar.capture_events(${pg.escapeLiteral(fnName)})`,
      );
    }
    await tx.query(
      `insert into hangar.event_triggers (function_name, schema_name, table_name, trigger_name, ops)
       values ($1, $2, $3, $4, $5)
       on conflict (function_name, schema_name, table_name)
       do update set trigger_name = excluded.trigger_name, ops = excluded.ops, updated_at = now()`,
      [fnName, table.schema, table.table, name, spec.ops],
    );
  }
  const { rows } = await tx.query<Tracked>(
    "select schema_name, table_name, trigger_name from hangar.event_triggers where function_name = $1",
    [fnName],
  );
  for (const t of rows) {
    if (wanted.has(`${t.schema_name}.${t.table_name}`)) continue;
    await dropOne(tx, fnName, t);
  }
  return { missing };
}

/** Drop every table trigger `fnName` owns (the function is being removed). */
export async function dropTableTriggers(tx: Sql, fnName: string): Promise<void> {
  const { rows } = await tx.query<Tracked>(
    "select schema_name, table_name, trigger_name from hangar.event_triggers where function_name = $1",
    [fnName],
  );
  for (const t of rows) await dropOne(tx, fnName, t);
}

async function dropOne(tx: Sql, fnName: string, t: Tracked): Promise<void> {
  // The table may have been dropped since (taking its trigger with it).
  const { rowCount } = await tx.query(
    "select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2",
    [t.schema_name, t.table_name],
  );
  if (rowCount) {
    for (const name of await ownedTriggers(tx, fnName, t.schema_name, t.table_name)) {
      await tx.query(`drop trigger ${q(name)} on ${q(t.schema_name)}.${q(t.table_name)}`);
    }
  }
  await tx.query("delete from hangar.event_triggers where function_name = $1 and schema_name = $2 and table_name = $3", [
    fnName,
    t.schema_name,
    t.table_name,
  ]);
}

/**
 * The triggers on a table that are `fnName`'s: its current names, and the
 * name its tracking row remembers (a row-level trigger from before sql/0008,
 * or a base name that has since changed).
 */
async function ownedTriggers(tx: Sql, fnName: string, schema: string, table: string): Promise<string[]> {
  const { rows } = await tx.query<{ tgname: string }>(
    `select t.tgname from pg_catalog.pg_trigger t
       join pg_catalog.pg_class c on c.oid = t.tgrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relname = $2 and not t.tgisinternal
        and (t.tgname = any($3::text[])
             or t.tgname = (select trigger_name from hangar.event_triggers where function_name = $4 and schema_name = $1 and table_name = $2))`,
    [schema, table, Object.values(triggerNames(fnName)), fnName],
  );
  return rows.map((r) => r.tgname);
}

/**
 * Find the table a spec names: exactly as written, else as Postgres folds an
 * unquoted name (lower case), so `public.Orders` finds `orders`.
 */
async function resolveTable(tx: Sql, fnName: string, spec: EventSpec, skipMissing: boolean): Promise<{ schema: string; table: string } | null> {
  const { rows } = await tx.query<{ schema: string; table: string; kind: string }>(
    `select n.nspname as schema, c.relname as table, c.relkind::text as kind
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where (n.nspname::text, c.relname::text) in (($1::text, $2::text), (lower($1::text), lower($2::text)))
      order by (n.nspname::text = $1::text and c.relname::text = $2::text) desc
      limit 1`,
    [spec.schema, spec.table],
  );
  const found = rows[0];
  const label = `${spec.schema}.${spec.table}`;
  if (!found) {
    if (skipMissing) return null;
    throw new UserError(`function "${fnName}": config.events: table "${label}" does not exist; create it before deploying`, "TABLE_NOT_FOUND");
  }
  if (found.kind !== "r" && found.kind !== "p") {
    throw new UserError(`function "${fnName}": config.events: "${label}" is not a table (views and other relations cannot have change triggers)`, "NOT_A_TABLE");
  }
  return { schema: found.schema, table: found.table };
}

/** Hangar's own schemas and the system catalogs: no function watches those. */
function refuseReserved(fnName: string, schema: string, label: string): void {
  const s = schema.toLowerCase();
  if (s === "hangar" || s === "hangar_vectors" || s === "information_schema" || s.startsWith("pg_")) {
    throw new UserError(`function "${fnName}": config.events: "${label}" is in reserved schema "${schema}"`, "RESERVED_SCHEMA");
  }
}

/**
 * The capture trigger is SECURITY DEFINER: it records whole rows whoever
 * writes them. So the function's role must itself be able to read every
 * row: USAGE on the schema, SELECT on the table, and no row-level security
 * that would hide rows from it (events cannot apply a policy).
 */
async function assertReadable(tx: Sql, fnName: string, t: { schema: string; table: string }, role: string): Promise<void> {
  const { rows } = await tx.query<{ role_ok: boolean; usage: boolean; sel: boolean; rls: boolean; owner: boolean }>(
    `select exists (select 1 from pg_catalog.pg_roles where rolname = $1) as role_ok,
            c.oid is not null and pg_catalog.has_schema_privilege($1, c.relnamespace, 'USAGE') as usage,
            c.oid is not null and pg_catalog.has_table_privilege($1, c.oid, 'SELECT') as sel,
            c.relrowsecurity as rls,
            c.relowner = (select oid from pg_catalog.pg_roles where rolname = $1) and not c.relforcerowsecurity as owner
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $2 and c.relname = $3`,
    [role, t.schema, t.table],
  ).catch((err: { code?: string }) => {
    if (err.code === "42704") return { rows: [] as never[] };
    throw err;
  });
  const r = rows[0];
  const label = `${t.schema}.${t.table}`;
  const fail = (why: string) => {
    throw new UserError(`function "${fnName}": config.events: "${label}": ${why}; events deliver only rows the function's role can read`, "EVENTS_NOT_READABLE");
  };
  if (!r || !r.role_ok) return fail(`role "${role}" does not exist`);
  if (!r.usage) return fail(`role "${role}" has no USAGE on schema "${t.schema}"`);
  if (!r.sel) return fail(`role "${role}" cannot SELECT it`);
  if (r.rls && !r.owner) return fail(`row-level security is enabled on it and would hide rows from role "${role}"`);
}
