import { readFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { Db } from "../../host/db/index.ts";
import { PgliteDb } from "../../host/db/pglite.ts";
import { PostgresDb } from "../../host/db/postgres.ts";

export type Backend = "postgres" | "pglite";
export const backend: Backend = process.env.HANGAR_TEST_BACKEND === "pglite" ? "pglite" : "postgres";

export interface TestDatabase {
  /** Connection string (postgres backend only; null on pglite). */
  url: string | null;
  db: Db;
  /** Drops the database. Safe twice. */
  close(): Promise<void>;
}

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run tests through \`npm test\` (scripts/test.js provisions Postgres)`);
  return v;
}

/** A fresh, migrated database of its own: a template copy on Postgres, a dump load on PGlite. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (backend === "pglite") {
    const dump = await readFile(env("HANGAR_TEST_PGLITE_TEMPLATE"));
    const db = await PgliteDb.open({ dataDir: "memory://", loadDataDir: new Blob([dump]) });
    return { url: null, db, close: () => db.close() };
  }
  const url = await createPgDatabase();
  const db = new PostgresDb({ url, applicationName: "hangar-test", max: 8 });
  let closed: Promise<void> | null = null;
  return {
    url,
    db,
    close: () => (closed ??= db.close().then(() => dropPgDatabase(url))),
  };
}

/** A fresh Postgres database: a copy of the migrated template, or empty (for migration tests). */
export async function createPgDatabase(opts: { empty?: boolean } = {}): Promise<string> {
  const adminUrl = env("HANGAR_TEST_PG_URL");
  const name = `t_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const sql = opts.empty ? `create database ${name}` : `create database ${name} template ${env("HANGAR_TEST_TEMPLATE")}`;
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(sql);
        break;
      } catch (err) {
        // Concurrent copies of one template can collide; they succeed on retry.
        if ((err as { code?: string }).code !== "55006" || attempt > 20) throw err;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropPgDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: env("HANGAR_TEST_PG_URL") });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}

/** One statement on a client of its own (connect, query, end): for tests that check what a process wrote. */
export async function queryOnce<R extends object>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(text, values)).rows;
  } finally {
    await c.end();
  }
}
