import type { Db } from "../db/index.ts";
import { decryptSecret, encryptSecret } from "./crypto.ts";
import { SecretsError } from "./errors.ts";

/** NOTIFY channel; the payload is the changed scope ("" for globals). */
export const SECRETS_CHANNEL = "hangar_secrets";
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
export const FUNCTION_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface ScopeOpts {
  /** A function name, or "" / undefined for a global secret. */
  scope?: string | null;
}

export interface SecretInfo {
  name: string;
  /** The function it belongs to, or null for a global secret. */
  function: string | null;
  updatedAt: Date;
}

function scopeOf(opts: ScopeOpts): string {
  const scope = opts.scope ?? "";
  if (scope !== "" && !FUNCTION_NAME.test(scope)) throw new SecretsError(`function name ${JSON.stringify(scope)} must match ${FUNCTION_NAME.source}`, "SECRET_INVALID");
  return scope;
}

function checkName(name: unknown): string {
  if (typeof name !== "string" || !SECRET_NAME.test(name)) throw new SecretsError(`secret name ${JSON.stringify(name)} must match ${SECRET_NAME.source}`, "SECRET_INVALID");
  return name;
}

/** Store (or replace) a secret, encrypted; running instances hear of it by NOTIFY. */
export async function setSecret(db: Db, key: string, opts: ScopeOpts & { name: string; value: string }): Promise<SecretInfo> {
  const scope = scopeOf(opts);
  const name = checkName(opts.name);
  if (typeof opts.value !== "string") throw new SecretsError("secret value must be a string", "SECRET_INVALID");
  const ciphertext = encryptSecret(key, scope, name, opts.value);
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ updated_at: Date }>(
      `insert into hangar.secrets (scope, name, ciphertext) values ($1, $2, $3)
       on conflict (scope, name) do update set ciphertext = excluded.ciphertext, updated_at = now()
       returning updated_at`,
      [scope, name, ciphertext],
    );
    await tx.query("select pg_notify($1, $2)", [SECRETS_CHANNEL, scope]);
    return { name, function: scope || null, updatedAt: rows[0].updated_at };
  });
}

/** Delete a secret; resolves to whether it existed. */
export async function unsetSecret(db: Db, opts: ScopeOpts & { name: string }): Promise<boolean> {
  const scope = scopeOf(opts);
  const name = checkName(opts.name);
  return db.transaction(async (tx) => {
    const { rowCount } = await tx.query("delete from hangar.secrets where scope = $1 and name = $2", [scope, name]);
    if (rowCount) await tx.query("select pg_notify($1, $2)", [SECRETS_CHANNEL, scope]);
    return Boolean(rowCount);
  });
}

/** Names, scopes and times; never values. With a scope: that function's secrets and the globals it sees. */
export async function listSecrets(db: Db, opts: ScopeOpts = {}): Promise<SecretInfo[]> {
  const scope = scopeOf(opts);
  const { rows } = await db.query<{ scope: string; name: string; updated_at: Date }>(
    `select scope, name, updated_at from hangar.secrets where $1 = '' or scope in ('', $1) order by scope, name`,
    [scope],
  );
  return rows.map((r) => ({ name: r.name, function: r.scope || null, updatedAt: r.updated_at }));
}

/** A function's env: global secrets overlaid by its own. */
export async function loadEnv(db: Db, key: string, functionName: string): Promise<Record<string, string>> {
  const { rows } = await db.query<{ scope: string; name: string; ciphertext: Uint8Array }>(
    "select scope, name, ciphertext from hangar.secrets where scope in ('', $1) order by scope",
    [functionName],
  );
  const env: Record<string, string> = {};
  // Globals sort first (scope ''), so function-scoped values overwrite them.
  for (const r of rows) env[r.name] = decryptSecret(key, r.scope, r.name, r.ciphertext);
  return env;
}
