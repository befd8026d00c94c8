import { createRuntime, type Runtime } from "../../runtime/index.ts";
import { createBindingFactory } from "../bindings/index.ts";
import { BUNDLE_FILENAME } from "../build/index.ts";
import type { HangarConfig } from "../config/index.ts";
import type { Db } from "../db/index.ts";
import { createInvoker } from "../invoke/invoker.ts";
import { effectiveLimits } from "../invoke/limits.ts";
import { statusOf } from "../http/result.ts";
import type { Invoker } from "../invoke/types.ts";
import type { Logger } from "../log/logger.ts";
import type { InvocationRecorder } from "../logs/types.ts";
import { UserError } from "../errors.ts";
import { Registry } from "../registry/index.ts";
import { SecretsCache } from "../secrets/index.ts";

export interface Core {
  registry: Registry;
  runtime: Runtime;
  invoker: Invoker;
  /** Safe twice. */
  close(): Promise<void>;
}

export interface CoreOptions {
  db: Db;
  config: HangarConfig;
  logger: Logger;
  recorder?: InvocationRecorder;
}

/** Registry, sandbox runtime and the invoker over them: everything an instance runs functions with. */
export async function createCore(opts: CoreOptions): Promise<Core> {
  const { db, config, logger } = opts;
  if (!config.secretKey) throw new UserError("HANGAR_SECRET_KEY is required to run functions on DATABASE_URL (it encrypts their secrets)", "SECRET_KEY_MISSING");
  const secrets = new SecretsCache({ db, key: config.secretKey });
  await secrets.start();
  const runtime = await createRuntime({ threads: config.sandboxThreads, memoryBudgetMb: config.memoryBudgetMb });
  const registry = new Registry(db, {
    logger,
    prewarm: async (fn, bundle) => {
      // Top-level code sees the function's env, as on Supabase/Deno (module-scope clients).
      await runtime.load(fn.versionId, bundle.code, { filename: BUNDLE_FILENAME, limits: effectiveLimits(config.defaultLimits, fn), env: await secrets.envFor(fn.name) });
    },
  });
  try {
    await registry.start();
  } catch (err) {
    await runtime.close();
    await secrets.close();
    throw err;
  }
  // one overlaid env per secrets env, so a function's handlers keep getting the same object (and its encoding is reused)
  const overlaid = new WeakMap<object, Readonly<Record<string, string>>>();
  const withOverlay = (env: Readonly<Record<string, string>>): Readonly<Record<string, string>> => {
    if (Object.keys(config.functionEnv).length === 0) return env;
    let out = overlaid.get(env);
    if (!out) overlaid.set(env, (out = Object.freeze({ ...env, ...config.functionEnv })));
    return out;
  };
  const invoker = createInvoker({
    functions: registry,
    load: (id, code, limits, env) => runtime.load(id, code, { filename: BUNDLE_FILENAME, limits, env }),
    bindings: createBindingFactory({ db, config }),
    // dev's .env values overlay the stored secrets (the local file wins, as wrangler's .dev.vars does).
    env: async (name) => withOverlay(await secrets.envFor(name)),
    defaultLimits: config.defaultLimits,
    nodeId: config.nodeId,
    recorder: opts.recorder,
    logger,
    statusOf,
  });
  let closing: Promise<void> | null = null;
  return {
    registry,
    runtime,
    invoker,
    close() {
      closing ??= (async () => {
        await registry.close();
        await runtime.close();
        await secrets.close();
      })();
      return closing;
    },
  };
}
