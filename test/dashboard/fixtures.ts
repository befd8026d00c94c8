import { cp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Db } from "../../host/db/index.ts";

const SHIPPED = new URL("../../functions", import.meta.url).pathname;

/** The shipped functions plus `chatty` (console lines; a version label to see rollbacks by). */
export async function writeFunctions(dir: string, version: string): Promise<void> {
  await cp(SHIPPED, dir, { recursive: true, filter: (src) => !src.endsWith("tsconfig.json") });
  await writeFile(
    join(dir, "chatty.ts"),
    `export default { async fetch(request: Request) {
  console.log("hello from chatty ${version}");
  console.warn("second line");
  return new Response("chatty ${version}");
} };\n`,
  );
}

/** `flaky` (throws on ?fail, for error rates and stacks) and `tick` (every 5 s, for the cron timeline). */
export async function writeExtras(dir: string): Promise<void> {
  await writeFile(
    join(dir, "flaky.ts"),
    `export default { async fetch(request: Request) {
  if (new URL(request.url).searchParams.has("fail")) throw new Error("flaky failed on purpose");
  return new Response("fine");
} };\n`,
  );
  await writeFile(
    join(dir, "tick.ts"),
    `export const config = { schedule: "*/5 * * * * *", catchUp: "none" };
export default { async scheduled() { console.log("tick"); } };\n`,
  );
}

/** The tables `on-signup` watches, so it deploys as in production. */
export async function signupTables(db: Db): Promise<void> {
  await db.query(`create table if not exists public.signups (id bigint generated always as identity primary key, email text not null unique,
    name text, created_at timestamptz not null default now())`);
  await db.query(`create table if not exists public.welcome_messages (email text primary key, body text not null, signup_event text not null,
    created_at timestamptz not null default now())`);
  await db.query("grant select, insert, update, delete on public.signups, public.welcome_messages to hangar_guest");
}

/** A dead letter of `on-signup`, as the dispatcher leaves one after its last failed attempt. */
export async function deadEvent(db: Db, email: string, rowId = 999): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `insert into hangar.events (function_name, schema_name, table_name, op, row_key, new, status, attempts, last_error, finished_at)
     values ('on-signup', 'public', 'signups', 'insert', $2, $1::jsonb, 'dead', 5, 'Error: the mail server was down', now())
     returning id::text`,
    [JSON.stringify({ id: rowId, email, name: "Dead Letter" }), JSON.stringify([String(rowId)])],
  );
  return rows[0].id;
}
