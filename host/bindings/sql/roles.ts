// Which database roles a function may run as. Guest SQL runs under
// `SET LOCAL ROLE <role>`: whatever that role may do, the function may do.
// So the role must be ordinary: not a superuser, not able to bypass RLS,
// create roles or replicate, not the host's own role, not a member of any
// pg_* role, of the host role or of any role with those attributes, and
// named in the operator's allow-list (HANGAR_FUNCTION_ROLES). Checked at
// deploy (naming the function) and again where the binding sets the role,
// since a role can be altered after the deploy.
import type { Sql } from "../../db/index.ts";
import { UserError } from "../../errors.ts";
import { GUEST_ROLE } from "./context.ts";

/** The allow-list when the operator sets none. */
export const DEFAULT_FUNCTION_ROLES: readonly string[] = [GUEST_ROLE];

interface RoleRow {
  exists: boolean;
  super: boolean;
  bypassrls: boolean;
  createrole: boolean;
  replication: boolean;
  is_host: boolean;
  bad_member_of: string | null;
  session_safe: boolean;
}

// Catalog names qualified: the session's search_path is not trusted. The host
// is session_user: the check may run while a guest's SET LOCAL ROLE is in force.
const ROLE_SQL = `
  select true as exists, r.rolsuper as super, r.rolbypassrls as bypassrls, r.rolcreaterole as createrole,
         r.rolreplication as replication,
         (r.rolname = session_user) as is_host,
         (select m.rolname::text from pg_catalog.pg_roles m
           where m.oid <> r.oid and pg_catalog.pg_has_role(r.oid, m.oid, 'MEMBER')
             and (m.rolname like 'pg\\_%' or m.rolsuper or m.rolbypassrls or m.rolcreaterole or m.rolreplication
                  or m.rolname = session_user)
           order by m.rolname limit 1) as bad_member_of,
         not exists (select 1 from pg_catalog.pg_proc p
           where p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace
             and (p.proname = 'set_config'
                  or ((p.proname like 'pg\\_advisory\\_%' or p.proname like 'pg\\_try\\_advisory\\_%') and p.proname not like '%xact%'))
             and pg_catalog.has_function_privilege(r.oid, p.oid, 'EXECUTE')) as session_safe
    from pg_catalog.pg_roles r where r.rolname = $1`;

/**
 * Why `role` may not run function SQL, or null when it may. `allowed` is the
 * operator's allow-list; null skips that part (attributes are always checked).
 */
export async function roleProblem(s: Sql, role: string, allowed: readonly string[] | null): Promise<string | null> {
  return (await roleCheck(s, role, allowed)).problem;
}

export interface RoleCheck {
  /** Why the role may not run function SQL, or null. */
  problem: string | null;
  /**
   * The role can leave nothing on a session past its transaction but
   * temporary objects and sequence state: it cannot call set_config
   * (session settings) nor take session advisory locks (migration 0006
   * revokes both). Then a session it used is reset in the same round trip
   * as its statement (DISCARD TEMP, DISCARD SEQUENCES) instead of by a
   * DISCARD ALL of its own; otherwise DISCARD ALL, as before.
   */
  sessionSafe: boolean;
}

async function roleCheck(s: Sql, role: string, allowed: readonly string[] | null): Promise<RoleCheck> {
  if (allowed && !allowed.includes(role)) {
    return { problem: `role "${role}" is not in HANGAR_FUNCTION_ROLES (allowed: ${allowed.join(", ") || "none"})`, sessionSafe: false };
  }
  const { rows } = await s.query<RoleRow>(ROLE_SQL, [role]);
  const r = rows[0];
  const problem = !r
    ? `role "${role}" does not exist`
    : r.is_host
      ? `role "${role}" is the host's own role`
      : r.super
        ? `role "${role}" is a superuser`
        : r.bypassrls
          ? `role "${role}" has BYPASSRLS`
          : r.createrole
            ? `role "${role}" has CREATEROLE`
            : r.replication
              ? `role "${role}" has REPLICATION`
              : r.bad_member_of
                ? `role "${role}" is a member of "${r.bad_member_of}" (a pg_* role, the host's role or a privileged role)`
                : null;
  return { problem, sessionSafe: !!r?.session_safe };
}

const TTL_MS = 5_000;
const cache = new WeakMap<object, Map<string, RoleCheck & { at: number }>>();

/**
 * `roleCheck` remembered briefly per database and role: the invoke-time
 * check runs on every transaction the binding opens, and a role altered
 * after deploy is refused within TTL_MS. `db` may be a per-invocation guest
 * Db: the cache is kept on the Db it was made from (`root`).
 */
export async function cachedRoleCheck(db: object, s: Sql, role: string, allowed: readonly string[] | null, now = Date.now()): Promise<RoleCheck> {
  const key = (db as { root?: object }).root ?? db;
  let m = cache.get(key);
  if (!m) cache.set(key, (m = new Map()));
  const id = `${role}\u0000${allowed?.join(",") ?? "*"}`;
  const hit = m.get(id);
  if (hit && now - hit.at < TTL_MS) return hit;
  const check = { ...(await roleCheck(s, role, allowed)), at: now };
  m.set(id, check);
  return check;
}

/** `cachedRoleCheck`'s problem alone. */
export async function cachedRoleProblem(db: object, s: Sql, role: string, allowed: readonly string[] | null, now = Date.now()): Promise<string | null> {
  return (await cachedRoleCheck(db, s, role, allowed, now)).problem;
}

/** Deploy-time check: a UserError naming the function, `config.role` and the reason. */
export async function assertFunctionRole(tx: Sql, fnName: string, role: string | null | undefined, allowed: readonly string[] | null | undefined): Promise<void> {
  const problem = await roleProblem(tx, role || GUEST_ROLE, allowed ?? DEFAULT_FUNCTION_ROLES);
  if (problem) throw new UserError(`function "${fnName}": config.role: ${problem}; functions run as an ordinary role`, "BAD_ROLE");
}
