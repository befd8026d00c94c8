import { randomUUID } from "node:crypto";
import type { FunctionInstance, HostFunctions, InvocationStats, Limits, Outcome } from "../../runtime/types.ts";
import { BUNDLE_FILENAME, mapStack } from "../build/index.ts";
import { capStack } from "../build/stack.ts";
import type { Sql } from "../db/index.ts";
import type { Logger } from "../log/logger.ts";
import type { ConsoleLine, InvocationRecorder } from "../logs/types.ts";
import type { ActiveFunction } from "../registry/index.ts";
import { FAILURES } from "./failures.ts";
import type { InvokeRequest, InvokeResult, Invoker } from "./types.ts";
import { uuid7 } from "./uuid7.ts";
import { ConcurrencyGates } from "./concurrency.ts";

const DEFAULT_CONCURRENCY = 64;

/** What the bindings of one invocation need to know. */
export interface BindingContext {
  fn: ActiveFunction;
  requestId: string;
  auth: Record<string, unknown> | null;
  sqlSession?: Sql;
}

export interface InvocationBindings {
  functions: HostFunctions;
  /** Release what the invocation held (open transactions); safe twice. */
  close(): Promise<void>;
}

export interface InvokerDeps {
  functions: {
    get(name: string): ActiveFunction | undefined;
    bundle(versionId: string): Promise<{ code: string; map: string | null }>;
  };
  /** `env` is what the module's top-level code sees when this call evaluates it. */
  load(id: string, code: string, limits: Limits, env: Record<string, string>): Promise<FunctionInstance>;
  bindings(ctx: BindingContext): Promise<InvocationBindings>;
  env(functionName: string): Promise<Record<string, string>>;
  defaultLimits: Limits;
  nodeId: string;
  recorder?: InvocationRecorder;
  logger: Logger;
  /** Include guest stacks in error responses (dev). */
  exposeStacks?: boolean;
}

const ZERO: InvocationStats = { cpuMs: 0, wallMs: 0, memoryBytes: 0 };
/** Bindings of an invocation whose end was never reported are closed this long after its wall limit. */
const END_GRACE_MS = 5000;

/** The single waist every trigger goes through: find, warm, bind, run, map, record. */
export function createInvoker(deps: InvokerDeps): Invoker {
  const gates = new ConcurrencyGates();
  return {
    async invoke(req: InvokeRequest): Promise<InvokeResult> {
      const requestId = req.requestId ?? randomUUID();
      const startedAt = new Date();
      const t0 = performance.now();
      const logs: ConsoleLine[] = [];
      const fn = deps.functions.get(req.functionName);
      let result: InvokeResult;
      let stack: string | undefined;
      const limits: Limits | undefined = fn ? { ...deps.defaultLimits, ...fn.config.limits } : undefined;
      const concurrency = limits?.concurrency ?? DEFAULT_CONCURRENCY;
      const release = fn ? await gates.enter(fn.name, concurrency) : null;
      if (!fn) {
        result = fail(req, requestId, null, 404, "NOT_FOUND", `function "${req.functionName}" is not deployed`, ZERO);
      } else if (!release) {
        result = fail(req, requestId, fn.versionId, 503, "CONCURRENCY_LIMIT", `function "${fn.name}" is running ${concurrency} invocations and its queue is full; retry shortly`, ZERO);
        result.response?.headers.set("retry-after", "1");
      } else {
        const limits: Limits = { ...deps.defaultLimits, ...fn.config.limits };
        const bundle = await deps.functions.bundle(fn.versionId);
        let bindings: InvocationBindings | undefined;
        let outcome: Outcome<unknown>;
        // waitUntil work keeps its bindings (and its concurrency slot) until the invocation is over
        let markEnded!: () => void;
        const ended = new Promise<void>((resolve) => (markEnded = resolve));
        let started = false;
        try {
          const env = await deps.env(fn.name);
          const instance = await deps.load(fn.versionId, bundle.code, limits, env);
          bindings = await deps.bindings({ fn, requestId, auth: req.auth ?? null, sqlSession: req.sqlSession });
          const input = {
            requestId,
            env,
            auth: req.auth ?? null,
            limits,
            host: bindings.functions,
            onEnd: () => markEnded(),
            onConsole: (level: ConsoleLine["level"], message: string) => {
              logs.push({ level, message, time: new Date() });
              deps.logger.debug(`[${fn.name}] ${message}`, { requestId, level });
            },
          };
          started = true;
          outcome =
            req.trigger === "http"
              ? await instance.fetch(req.request!, input)
              : await instance.dispatch(req.kind ?? "event", req.payload ?? null, input);
        } catch (err) {
          // The bundle no longer evaluates (or the runtime broke): the guest's failure, reported as such.
          const e = err as Error;
          outcome = { ok: false, error: { kind: "threw", message: e.message, stack: e.stack }, stats: ZERO };
        } finally {
          const close = async () => {
            await bindings?.close().catch((err) => deps.logger.warn("binding close failed", { err }));
            release();
          };
          // an exactly-once session belongs to the caller's transaction: it is done with it when invoke returns
          if (!started || req.sqlSession) await close();
          else {
            let timer: ReturnType<typeof setTimeout> | undefined;
            const bound = new Promise<void>((resolve) => { timer = setTimeout(resolve, limits.wallMs + END_GRACE_MS); });
            void Promise.race([ended, bound]).then(() => { clearTimeout(timer); return close(); });
          }
        }
        if (outcome.ok) {
          const response = req.trigger === "http" ? (outcome.value as Response) : undefined;
          result = {
            requestId,
            functionName: fn.name,
            versionId: fn.versionId,
            status: response?.status ?? 200,
            response,
            value: response ? undefined : outcome.value,
            stats: outcome.stats,
          };
        } else {
          const { status, code } = FAILURES[outcome.error.kind];
          stack = outcome.error.stack && bundle.map ? mapStack(outcome.error.stack, bundle.map, BUNDLE_FILENAME) : outcome.error.stack && capStack(outcome.error.stack);
          result = fail(req, requestId, fn.versionId, status, code, outcome.error.message, outcome.stats, deps.exposeStacks ? stack : undefined);
          result.error = { ...outcome.error, stack, code };
        }
      }
      deps.recorder?.record({
        id: uuid7(startedAt.getTime()),
        requestId,
        correlationId: req.correlationId ?? null,
        functionName: req.functionName,
        versionId: result.versionId,
        trigger: req.trigger,
        status: result.error ? result.error.code : "ok",
        httpStatus: result.status,
        startedAt,
        durationMs: performance.now() - t0,
        cpuMs: result.stats.cpuMs,
        memoryBytes: result.stats.memoryBytes,
        error: result.error ? { message: result.error.message, stack } : null,
        nodeId: deps.nodeId,
        logs,
      });
      return result;
    },
  };
}

function fail(
  req: InvokeRequest,
  requestId: string,
  versionId: string | null,
  status: number,
  code: string,
  message: string,
  stats: InvocationStats,
  stack?: string,
): InvokeResult {
  const body = { error: { code, message, requestId, ...(stack ? { stack } : {}) } };
  return {
    requestId,
    functionName: req.functionName,
    versionId,
    status,
    response: req.trigger === "http" ? Response.json(body, { status }) : undefined,
    error: { kind: "threw", message, code },
    stats,
  };
}
