import { randomUUID } from "node:crypto";
import type { FunctionInstance, HostFunctions, InvocationEnd, InvocationInput, InvocationStats, Limits, Outcome } from "../../runtime/types.ts";
import { BundleEvalError, MemoryBudgetError } from "../../runtime/index.ts";
import { BUNDLE_FILENAME, mapStack } from "../build/index.ts";
import { capStack } from "../build/stack.ts";
import type { Sql } from "../db/index.ts";
import type { Logger } from "../log/logger.ts";
import type { ConsoleLine, InvocationRecorder } from "../logs/types.ts";
import type { ActiveFunction } from "../registry/index.ts";
import { FAILURE_CODES } from "./failures.ts";
import type { InvokeError, InvokeErrorKind, InvokeRequest, InvokeResult, Invoker } from "./types.ts";
import { uuid7 } from "./uuid7.ts";
import { nameCallee } from "./callee.ts";
import { ConcurrencyGates } from "./concurrency.ts";
import { effectiveLimits } from "./limits.ts";
import { lazyBindings, type LazyBindings } from "./lazy-bindings.ts";

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
  load(id: string, code: string, limits: Limits, env: Readonly<Record<string, string>>): Promise<FunctionInstance>;
  /** Made on an invocation's first host call: a function that calls none never pays for them. */
  bindings(ctx: BindingContext): Promise<InvocationBindings>;
  env(functionName: string): Promise<Readonly<Record<string, string>>>;
  defaultLimits: Limits;
  nodeId: string;
  recorder?: InvocationRecorder;
  /** The status stored with an invocation's record (the trigger's mapping of the result). */
  statusOf?: (result: InvokeResult) => number;
  logger: Logger;
}

/**
 * The runtime's input for one invocation. `host` is read only when the function makes its first host
 * call (never, for most): a getter on the prototype, so every input shares one hidden class.
 */
class RunInput implements InvocationInput {
  constructor(
    readonly requestId: string,
    readonly env: Readonly<Record<string, string>>,
    readonly auth: Record<string, unknown> | null,
    readonly limits: Limits,
    private readonly bindings: LazyBindings,
    readonly onEnd: (end?: InvocationEnd) => void,
    readonly onConsole: (level: ConsoleLine["level"], message: string) => void,
  ) {}

  get host(): HostFunctions { return this.bindings.host; }
}

const ZERO: InvocationStats = { cpuMs: 0, wallMs: 0, memoryBytes: 0 };
/** Bindings of an invocation whose end was never reported are closed this long after its wall limit. */
const END_GRACE_MS = 5000;

const failure = (kind: InvokeErrorKind, message: string, extra: Partial<InvokeError> = {}): InvokeError =>
  ({ kind, code: FAILURE_CODES[kind], message, ...extra });

/** The single waist every trigger goes through: gate, warm, bind, run, record. */
export function createInvoker(deps: InvokerDeps): Invoker {
  const gates = new ConcurrencyGates();
  const statusOf = deps.statusOf ?? ((r: InvokeResult) => r.response?.status ?? (r.error ? 500 : 200));

  /**
   * Run `fn` once it holds a concurrency slot (released when the invocation is
   * over, waitUntil work included); `over` is told when that is.
   */
  async function run(req: InvokeRequest, fn: ActiveFunction, limits: Limits, requestId: string, logs: ConsoleLine[], release: () => void, over: (end?: InvocationEnd) => void): Promise<Omit<InvokeResult, "requestId" | "functionName" | "versionId">> {
    const bindings = lazyBindings(() => deps.bindings({ fn, requestId, auth: req.auth ?? null, sqlSession: req.sqlSession }));
    // waitUntil work keeps its bindings (and its concurrency slot) until the invocation is over
    let markEnded: (() => void) | undefined;
    let end: InvocationEnd | undefined;
    let isEnded = false;
    let started = false;
    let outcome: Outcome<unknown>;
    let bundle: { code: string; map: string | null } | undefined;
    try {
      bundle = await deps.functions.bundle(fn.versionId);
      const env = await deps.env(fn.name);
      const instance = await deps.load(fn.versionId, bundle.code, limits, env);
      const input = new RunInput(requestId, env, req.auth ?? null, limits, bindings,
        (e?: InvocationEnd) => { end = e; isEnded = true; markEnded?.(); },
        (level: ConsoleLine["level"], message: string) => {
          logs.push({ level, message, time: new Date() });
          deps.logger.debug(`[${fn.name}] ${message}`, { requestId, level });
        });
      started = true;
      outcome =
        req.trigger === "http"
          ? await instance.fetch(req.request!, input)
          : await instance.dispatch(req.kind ?? "event", req.payload ?? null, input);
    } catch (err) {
      const e = err as Error;
      if (err instanceof MemoryBudgetError) return { error: failure("memory-budget", e.message, { retryAfterS: 1 }), stats: ZERO };
      // The bundle no longer evaluates: the guest's failure, reported as such.
      if (err instanceof BundleEvalError) outcome = { ok: false, error: { kind: "threw", message: e.message, stack: e.stack }, stats: ZERO };
      else {
        deps.logger.error("invocation failed in the host", { requestId, function: fn.name, err: e });
        return { error: failure("internal", e?.message ?? String(err)), stats: ZERO };
      }
    } finally {
      const close = async () => {
        over(end);
        await bindings.close().catch((err) => deps.logger.warn("binding close failed", { err }));
        release();
      };
      // an exactly-once session belongs to the caller's transaction: it is done with it when invoke returns
      if (!started || req.sqlSession) await close();
      else if (isEnded) void close();
      else {
        // waitUntil work or a streamed body is still running: close when it ends, or a grace period after the wall limit
        const timer = setTimeout(() => markEnded!(), limits.wallMs + END_GRACE_MS);
        markEnded = () => { markEnded = undefined; clearTimeout(timer); void close(); };
      }
    }
    if (outcome.ok) {
      return req.trigger === "http" ? { response: outcome.value as Response, stats: outcome.stats } : { value: outcome.value, stats: outcome.stats };
    }
    const raw = outcome.error.stack;
    const stack = raw && bundle?.map ? mapStack(raw, bundle.map, BUNDLE_FILENAME) : raw && capStack(raw);
    const message = bundle ? nameCallee(outcome.error.message, raw, bundle.code, BUNDLE_FILENAME) : outcome.error.message;
    return { error: failure(outcome.error.kind as InvokeErrorKind, message, stack ? { stack } : {}), stats: outcome.stats };
  }

  return {
    async invoke(req: InvokeRequest): Promise<InvokeResult> {
      const requestId = req.requestId ?? randomUUID();
      const startedAt = Date.now();
      const t0 = performance.now();
      const logs: ConsoleLine[] = [];
      const fn = req.fn ?? deps.functions.get(req.functionName);
      const base = { requestId, functionName: fn?.name ?? req.functionName, versionId: fn?.versionId ?? null };
      let result: InvokeResult;
      // The record waits for the invocation's end: console lines of its waitUntil work belong to it too.
      let ended = true;
      let recordWhenOver: ((end?: InvocationEnd) => void) | null = null;
      let end: InvocationEnd | undefined;
      const over = (e?: InvocationEnd) => { ended = true; end = e; recordWhenOver?.(e); };
      if (!fn) {
        result = { ...base, error: failure("not-found", `function "${req.functionName}" is not deployed`), stats: ZERO };
      } else {
        const limits = effectiveLimits(deps.defaultLimits, fn);
        const release = await gates.enter(fn.name, limits.concurrency);
        ended = !release;
        result = release
          ? { ...base, ...(await run(req, fn, limits, requestId, logs, release, over)) }
          : { ...base, error: failure("concurrency", `function "${fn.name}" is running ${limits.concurrency} invocations and its queue is full; retry shortly`, { retryAfterS: 1 }), stats: ZERO };
      }
      const answeredMs = performance.now() - t0;
      // the host refuses the request (413) whatever the function answered: the result, and its record, say so
      const refusal = req.refused?.();
      if (refusal) {
        void result.response?.body?.cancel().catch(() => {});
        result = { ...result, response: undefined, error: failure("too-large", refusal) };
      }
      // a streamed response lasts until its last byte: its duration, bytes and CPU time are known only then
      const record = (last?: InvocationEnd) => {
        const error = result.error;
        const streamed = !refusal && last?.streamedBytes !== undefined;
        deps.recorder?.record({
          id: uuid7(startedAt),
          requestId,
          correlationId: req.correlationId ?? null,
          functionName: base.functionName,
          versionId: result.versionId,
          trigger: req.trigger,
          status: error ? error.code : "ok",
          httpStatus: statusOf(result),
          startedAt: new Date(startedAt),
          durationMs: streamed ? performance.now() - t0 : answeredMs,
          cpuMs: Math.max(result.stats.cpuMs, last?.cpuMs ?? 0),
          memoryBytes: result.stats.memoryBytes,
          responseBytes: refusal ? null : last?.streamedBytes ?? result.stats.responseBytes ?? null,
          streamed,
          error: error ? { message: error.message, stack: error.stack } : null,
          nodeId: deps.nodeId,
          logs,
        });
      };
      if (ended) record(end);
      else recordWhenOver = record;
      return result;
    },
  };
}
