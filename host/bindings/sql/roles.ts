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
           order by m.rolname limit 1) as bad_member_of
    from pg_catalog.pg_roles r where r.rolname = $1`;

/**
 * Why `role` may not run function SQL, or null when it may. `allowed` is the
 * operator's allow-list; null skips that part (attributes are always checked).
 */
export async function roleProblem(s: Sql, role: string, allowed: readonly string[] | null): Promise<string | null> {
  if (allowed && !allowed.includes(role)) {
    return `role "${role}" is not in HANGAR_FUNCTION_ROLES (allowed: ${allowed.join(", ") || "none"})`;
  }
  const { rows } = await s.query<RoleRow>(ROLE_SQL, [role]);
  const r = rows[0];
  if (!r) return `role "${role}" does not exist`;
  if (r.is_host) return `role "${role}" is the host's own role`;
  if (r.super) return `role "${role}" is a superuser`;
  if (r.bypassrls) return `role "${role}" has BYPASSRLS`;
  if (r.createrole) return `role "${role}" has CREATEROLE`;
  if (r.replication) return `role "${role}" has REPLICATION`;
  if (r.bad_member_of) return `role "${role}" is a member of "${r.bad_member_of}" (a pg_* role, the host's role or a privileged role)`;
  return null;
}

const TTL_MS = 5_000;
const cache = new WeakMap<object, Map<string, { problem: string | null; at: number }>>();

/**
 * `roleProblem` remembered briefly per database and role: the invoke-time
 * check runs on every transaction the binding opens, and a role altered
 * after deploy is refused within TTL_MS.
 */
export async function cachedRoleProblem(key: object, s: Sql, role: string, allowed: readonly string[] | null, now = Date.now()): Promise<string | null> {
  let m = cache.get(key);
  if (!m) cache.set(key, (m = new Map()));
  const id = `${role}\u0000${allowed?.join(",") ?? "*"}`;
  const hit = m.get(id);
  if (hit && now - hit.at < TTL_MS) return hit.problem;
  const problem = await roleProblem(s, role, allowed);
  m.set(id, { problem, at: now });
  return problem;
}

/** Deploy-time check: a UserError naming the function, `config.role` and the reason. */
export async function assertFunctionRole(tx: Sql, fnName: string, role: string | null | undefined, allowed: readonly string[] | null | undefined): Promise<void> {
  const problem = await roleProblem(tx, role || GUEST_ROLE, allowed ?? DEFAULT_FUNCTION_ROLES);
  if (problem) throw new UserError(`function "${fnName}": config.role: ${problem}; functions run as an ordinary role`, "BAD_ROLE");
}
