import type { AdminOp, AdminContext } from "../admin/types.ts";
import { UserError } from "../errors.ts";
import { SecretsError } from "./errors.ts";
import { listSecrets, setSecret, unsetSecret } from "./store.ts";

function keyOf(ctx: AdminContext): string {
  if (!ctx.config.secretKey) throw new UserError("HANGAR_SECRET_KEY is not set: it is needed to store secrets", "SECRET_KEY_MISSING");
  return ctx.config.secretKey;
}

function fn(args: Record<string, unknown>): string | null {
  const f = args.function;
  if (f === undefined || f === null || f === "") return null;
  if (typeof f !== "string") throw new UserError("function must be a string");
  return f;
}

function str(args: Record<string, unknown>, name: string): string {
  const v = args[name];
  if (typeof v !== "string") throw new UserError(`${name} must be a string`);
  return v;
}

/** Turn a validation failure into a 400. */
async function user<T>(p: () => Promise<T>): Promise<T> {
  try {
    return await p();
  } catch (err) {
    if (err instanceof SecretsError && err.code === "SECRET_INVALID") throw new UserError(err.message, err.code);
    throw err;
  }
}

const iso = (s: { name: string; function: string | null; updatedAt: Date }) => ({ name: s.name, function: s.function, updated_at: s.updatedAt.toISOString() });

/** `secrets.set` { name, value, function? }, `secrets.list` { function? } (never values), `secrets.unset` { name, function? }. */
export const secretOps: Record<string, AdminOp> = {
  "secrets.set": (ctx, args) => user(async () => iso(await setSecret(ctx.db, keyOf(ctx), { name: str(args, "name"), value: str(args, "value"), scope: fn(args) }))),
  "secrets.list": (ctx, args) => user(async () => ({ secrets: (await listSecrets(ctx.db, { scope: fn(args) })).map(iso) })),
  "secrets.unset": (ctx, args) =>
    user(async () => {
      const name = str(args, "name");
      const scope = fn(args);
      if (!(await unsetSecret(ctx.db, { name, scope }))) throw new UserError(`no secret ${name}${scope ? ` for function ${scope}` : ""}`, "NOT_FOUND", 404);
      return { name, function: scope, removed: true };
    }),
};
