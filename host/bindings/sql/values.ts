// Result values as the guest receives them (SPEC §4): node-postgres already
// gives int8/numeric as strings, timestamptz as Date and json parsed; bytea
// arrives as a Buffer, which becomes a plain Uint8Array.

function plain(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Buffer.isBuffer(value)) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

/** Rows as plain objects with boundary-safe values. */
export function plainRows(rows: readonly object[]): Record<string, unknown>[] {
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) out[k] = plain(v);
    return out;
  });
}

/** Parameters as node-postgres takes them: Uint8Array as Buffer (it would otherwise send an array). */
export function pgParams(params: unknown[]): unknown[] {
  return params.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p));
}
