import { randomBytes, randomUUID } from "node:crypto";
import { createRuntime } from "../../runtime/index.ts";
import type { AdminContext, AdminOp } from "../admin/types.ts";
import { BUNDLE_FILENAME, ConfigError, isValidFunctionName, mapStack, validateConfig, type FunctionConfig } from "../build/index.ts";
import { loadEnv } from "../secrets/index.ts";
import { UserError } from "../errors.ts";
import { responseOf } from "../http/result.ts";
import { hashKey } from "../http/auth.ts";
import { deployVersion, rollbackVersion, type ActivateHook } from "./store.ts";

let activateHook: ActivateHook | undefined;
/** Side effects of activating a version (table triggers), run in the switch transaction. */
export function setActivateHook(hook: ActivateHook): void {
  activateHook = hook;
}

function str(args: Record<string, unknown>, key: string, what: string): string {
  const v = args[key];
  if (typeof v !== "string" || !v) throw new UserError(`${what} is required`);
  return v;
}

function fnName(args: Record<string, unknown>): string {
  const name = str(args, "name", "a function name");
  if (!isValidFunctionName(name)) throw new UserError(`"${name}" is not a valid function name: use lowercase letters, digits and dashes (^[a-z0-9][a-z0-9-]{0,62}$)`);
  return name;
}

/** The function's secrets and vars, for its top-level code at deploy (empty when this side cannot decrypt them). */
async function deployEnv(ctx: AdminContext, name: string): Promise<Record<string, string>> {
  if (!ctx.config.secretKey) return {};
  return loadEnv(ctx.db, ctx.config.secretKey, name);
}

/**
 * Evaluate the bundle in a sandbox (with the function's env) to read its
 * exported config, then validate it. A valid module's instance is parked: this
 * process's pre-warm of the version takes it, and other loads restore its
 * snapshot (runtime/snapshot), so the bundle is evaluated once (unless the
 * version's env or memory class differ from the deploy's).
 */
async function readConfig(ctx: AdminContext, name: string, code: string, hash: string, map: string | null, env: Record<string, string>): Promise<FunctionConfig> {
  const runtime = ctx.runtime ?? (await createRuntime({ memoryBudgetMb: 256 }));
  const id = `deploy:${name}:${hash}`;
  let valid = false;
  try {
    const instance = await runtime
      .load(id, code, { filename: BUNDLE_FILENAME, limits: { ...ctx.config.defaultLimits, wallMs: 10_000 }, env })
      .catch((err: Error) => {
        // A throw at module scope: say where, in the function's own source.
        const stack = err.stack && map ? mapStack(err.stack, map, BUNDLE_FILENAME) : err.stack;
        const where = stack?.split("\n").find((l) => /^\s+at /.test(l) && !l.includes(BUNDLE_FILENAME) && !l.includes("node_modules/") && !l.includes("<hangar-entry>"))?.trim();
        const message = err.message.replace(/^evaluating bundle\.js /, "evaluating the module ");
        throw new UserError(`function "${name}": ${message}${where ? `\n    ${where}` : ""}`, "DEPLOY_FAILED");
      });
    if (!instance.handlers.size) {
      throw new UserError(`function "${name}" has no handler: export default a fetch handler or an object with fetch/scheduled/event/notify, or call Deno.serve`, "DEPLOY_FAILED");
    }
    let config: FunctionConfig;
    try {
      config = validateConfig(name, instance.config);
    } catch (err) {
      if (err instanceof ConfigError) throw new UserError(err.message, err.code);
      throw err;
    }
    const missing = missingHandlers(config, instance.handlers);
    if (missing.length) throw new UserError(missing.map((m) => `function "${name}": ${m}`).join("\n"), "CONFIG_INVALID");
    // recorded with the version, so lists say which triggers it serves (a cron-only function has no URL)
    valid = true;
    return { ...config, handlers: [...instance.handlers].sort() };
  } finally {
    // a valid module is parked: this instance's pre-warm as the version takes it rather than restoring its snapshot
    await (valid && ctx.runtime ? runtime.park(id) : runtime.evict(id)).catch(() => {});
    if (!ctx.runtime) await runtime.close();
  }
}

/** A trigger configured without the handler it calls would deploy and then fail on every firing. */
function missingHandlers(config: FunctionConfig, handlers: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const need = (key: string, set: boolean, handler: string) => {
    if (set && !handlers.has(handler)) out.push(`config.${key} is set but the module exports no ${handler} handler (export default { ${handler}(...) { ... } })`);
  };
  need("schedule", config.schedule !== null, "scheduled");
  need("events", config.events.length > 0, "event");
  need("listen", config.listen.length > 0, "notify");
  need("routes", (config.routes ?? []).length > 0, "fetch");
  return out;
}

export const registryOps: Record<string, AdminOp> = {
  async "functions.deploy"(ctx, args) {
    const name = fnName(args);
    const code = str(args, "code", "the bundle code");
    const hash = str(args, "hash", "the bundle hash");
    const map = typeof args.map === "string" ? args.map : null;
    // the bundle is stored while it is evaluated (deployVersion), which needs no database; a failed one stores nothing
    const config = readConfig(ctx, name, code, hash, map, await deployEnv(ctx, name));
    const result = await deployVersion(ctx.db, { name, code, map, hash, config, actor: ctx.actor }, activateHook, { missingTables: ctx.dev ? "skip" : "error", functionRoles: ctx.config.functionRoles });
    if (!result.unchanged) {
      // this instance's pre-warm of the version finds its bundle here, not in the database
      ctx.registry?.seed(result.versionId, { code, map });
      // switched here before the call returns (others switch on the NOTIFY): a request right after it is served
      await ctx.registry?.refresh(true);
    }
    return { ...result, handlers: (await config).handlers };
  },

  async "functions.rollback"(ctx, args) {
    const name = fnName(args);
    const to = args.to === undefined || args.to === null ? null : Number(args.to);
    if (to !== null && (!Number.isInteger(to) || to < 1)) throw new UserError(`--to must be a version number, got "${args.to}"`);
    const result = await rollbackVersion(ctx.db, name, to, ctx.actor, activateHook, { missingTables: "error", functionRoles: ctx.config.functionRoles });
    await ctx.registry?.refresh(true);
    return result;
  },

  async "functions.list"(ctx) {
    const { rows } = await ctx.db.query(
      `select f.name, v.version, v.hash, v.created_at as deployed_at, v.deployed_by, v.config,
              (select count(*)::int from hangar.versions x where x.function_name = f.name) as versions
       from hangar.functions f left join hangar.versions v on v.id = f.active_version order by f.name`,
    );
    return rows;
  },

  async "functions.versions"(ctx, args) {
    const name = fnName(args);
    const { rows } = await ctx.db.query(
      `select v.version, v.hash, v.created_at, v.deployed_by, (f.active_version = v.id) as active
       from hangar.versions v join hangar.functions f on f.name = v.function_name where v.function_name = $1 order by v.version desc`,
      [name],
    );
    return rows;
  },

  async "functions.invoke"(ctx, args) {
    const name = fnName(args);
    if (!ctx.invoker) throw new UserError("invoke needs an instance to run the function in: start `hangar dev` or pass --url");
    const method = typeof args.method === "string" ? args.method.toUpperCase() : "GET";
    const path = typeof args.path === "string" ? args.path : "";
    const headers = new Headers((args.headers as [string, string][] | undefined) ?? []);
    const body = typeof args.body === "string" && method !== "GET" && method !== "HEAD" ? args.body : null;
    // What the guest sees under /functions/v1/<name> (SPEC §5).
    const url = new URL(`/${name}${path}`, ctx.config.remoteUrl ?? "http://localhost");
    const result = await ctx.invoker.invoke({ functionName: name, trigger: "http", request: new Request(url, { method, headers, body }) });
    const res = responseOf(result, { expose: true });
    return { status: res.status, headers: [...res.headers], body: await res.text(), requestId: result.requestId };
  },

  async "keys.create"(ctx, args) {
    const name = fnName(args);
    const key = `hk_${randomBytes(24).toString("base64url")}`;
    const id = randomUUID();
    const label = typeof args.label === "string" ? args.label : "";
    const { rowCount } = await ctx.db.query(
      "insert into hangar.function_keys (id, function_name, key_hash, label) select $1, $2, $3, $4 where exists (select 1 from hangar.functions where name = $2)",
      [id, name, hashKey(key), label],
    );
    if (!rowCount) throw new UserError(`function "${name}" is not deployed`, "NOT_FOUND", 404);
    return { id, function: name, key, label };
  },

  async "keys.list"(ctx, args) {
    const { rows } = await ctx.db.query(
      "select id, function_name as function, label, created_at from hangar.function_keys where $1::text is null or function_name = $1 order by created_at",
      [typeof args.name === "string" ? args.name : null],
    );
    return rows;
  },

  async "keys.revoke"(ctx, args) {
    const id = str(args, "id", "a key id");
    const { rowCount } = await ctx.db.query("delete from hangar.function_keys where id::text = $1", [id]);
    if (!rowCount) throw new UserError(`no key with id ${id}`, "NOT_FOUND", 404);
    return { revoked: id };
  },
};
