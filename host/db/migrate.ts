import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MigrationError } from "../errors.ts";
import { lockKey } from "./lock-key.ts";
import type { Db } from "./types.ts";

export const SQL_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "sql");

export interface MigrationFile {
  id: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

/** The numbered migrations `sql/NNNN_name.sql`, in order. */
export async function migrationFiles(dir = SQL_DIR): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  const files: MigrationFile[] = [];
  for (const file of names) {
    const m = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!m) throw new MigrationError(`sql/${file}: migration files are named NNNN_name.sql`);
    const sql = await readFile(join(dir, file), "utf8");
    const id = Number(m[1]);
    if (files.length && files[files.length - 1].id === id) throw new MigrationError(`sql/${file}: duplicate migration number ${m[1]}`);
    files.push({ id, name: m[2], file, sql, checksum: createHash("sha256").update(sql).digest("hex") });
  }
  return files;
}

export interface MigrateResult {
  applied: string[];
  version: number;
}

/**
 * Apply pending migrations in one transaction under a transaction-level
 * advisory lock, so any number of instances may start at once on an empty
 * database: the first applies, the rest wait and find nothing to do. An
 * applied migration whose file changed stops everything.
 */
export async function migrate(db: Db, dir = SQL_DIR): Promise<MigrateResult> {
  const files = await migrationFiles(dir);
  return db.transaction(async (tx) => {
    // Migrations (and waiting for another instance's) may take longer than Hangar's usual statement bound.
    await tx.query("set local statement_timeout = 0");
    await tx.query(long("select pg_advisory_xact_lock($1::int8)"), [lockKey("hangar:migrate")]);
    await tx.query("create schema if not exists hangar");
    await tx.query(`create table if not exists hangar.migrations (
      id int primary key, name text not null, checksum text not null,
      applied_at timestamptz not null default now())`);
    const { rows } = await tx.query<{ id: number; name: string; checksum: string }>(
      "select id, name, checksum from hangar.migrations order by id",
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const f of files) {
      const done = byId.get(f.id);
      if (done && done.checksum !== f.checksum) {
        throw new MigrationError(
          `sql/${f.file} was edited after it was applied (checksum ${f.checksum.slice(0, 12)} != applied ${done.checksum.slice(0, 12)}); migrations are forward-only: restore the file and add a new one`,
        );
      }
    }
    const known = new Set(files.map((f) => f.id));
    const unknown = rows.filter((r) => !known.has(r.id));
    if (unknown.length) {
      throw new MigrationError(
        `the database has migration ${unknown.map((r) => `${String(r.id).padStart(4, "0")}_${r.name}`).join(", ")} that this version of Hangar does not know; upgrade Hangar`,
      );
    }
    const applied: string[] = [];
    for (const f of files) {
      if (byId.has(f.id)) continue;
      try {
        await tx.query(long(f.sql));
      } catch (err) {
        throw new MigrationError(`sql/${f.file}: ${(err as Error).message}`, { cause: err });
      }
      await tx.query("insert into hangar.migrations (id, name, checksum) values ($1, $2, $3)", [f.id, f.name, f.checksum]);
      applied.push(f.file);
    }
    return { applied, version: files.length ? files[files.length - 1].id : 0 };
  });
}

/** A statement the client waits up to a day for (the pool's usual answer deadline does not apply). */
function long(text: string): string {
  return { text, query_timeout: 86_400_000 } as unknown as string;
}
