// Guest SQL host functions: "sql.query", "sql.begin", "sql.commit", "sql.rollback". See README.md.
export { createSqlBindings, type SqlBindingOptions, type SqlBindings } from "./bindings.ts";
export { DEFAULT_SQL_LIMITS, GUEST_ROLE, type SqlLimits } from "./context.ts";
export { SqlError, toGuestError } from "./errors.ts";
export { checkStatement } from "./gate.ts";
export { assertFunctionRole, DEFAULT_FUNCTION_ROLES, roleProblem } from "./roles.ts";
