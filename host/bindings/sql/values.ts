// Result values as the guest receives them (SPEC §4): node-postgres already
// gives int8/numeric as strings, timestamptz as Date and json parsed; bytea
// arrives as a Buffer, which becomes a plain Uint8Array.
import { flatArray, markJsonReady } from "../../../runtime/types.ts";

function plain(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Buffer.isBuffer(value)) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

/** jsonb's type oid: its values are JSON.parse's, and jsonb holds no NUL (Postgres refuses \u0000 in it). */
const JSONB = 3802;

/** Column names whose every column is jsonb (a name two columns share keeps the last one's value). */
function jsonbNames(fields: readonly { name: string; dataTypeID: number }[] | undefined): Set<string> | null {
  let names: Set<string> | null = null;
  if (!fields) return null;
  for (const f of fields) if (f.dataTypeID === JSONB) (names ??= new Set()).add(f.name);
  if (names) for (const f of fields) if (f.dataTypeID !== JSONB) names.delete(f.name);
  return names;
}

/**
 * Rows with boundary-safe values, converted in place: the rows are this
 * query's own (made by the wire reader or node-postgres for this call), and
 * most values are strings, numbers or Dates that need nothing. Copying every
 * row (Object.entries per row: an array per value) made a 100-row result's
 * garbage. Rows of strings, numbers, booleans, nulls, arrays of those and
 * jsonb values only (column names never hold NUL) are their own JSON: marked
 * so, the reply is not walked again. `fields` (the result's columns) tells
 * which values are jsonb; without it, only primitives count.
 */
export function plainRows(rows: Record<string, unknown>[], fields?: readonly { name: string; dataTypeID: number }[]): Record<string, unknown>[] {
  const jsonb = jsonbNames(fields);
  let flat = true;
  for (const row of rows) {
    for (const k in row) {
      const v = row[k];
      if (v === null || typeof v !== "object" || jsonb?.has(k)) continue;
      if (Array.isArray(v) && flatArray(v)) continue; // the codec's own test for an array that is its own JSON
      flat = false;
      row[k] = plain(v);
    }
  }
  return flat ? markJsonReady(rows) : rows;
}

/** Parameters as node-postgres takes them: Uint8Array as Buffer (it would otherwise send an array). */
export function pgParams(params: unknown[]): unknown[] {
  return params.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p));
}
