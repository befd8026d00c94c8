// The contract between the sandbox (runtime/) and the server (host/).
// runtime/ speaks Web standards plus the host functions handed to it here;
// it imports nothing from host/.

/** Per-invocation limits; all required once resolved (defaults live in host config). */
export interface Limits {
  /** CPU time the guest may spend running JS for one invocation. */
  cpuMs: number;
  /** Wall-clock time from start to the handler's result (and waitUntil work). */
  wallMs: number;
  /** Bytes of WASM heap the instance may grow to, in MiB. */
  memoryMb: number;
  /** Host `fetch` calls allowed per invocation. */
  subrequests: number;
  /** Invocations of one function running at once (enforced by the host's invoker, not the sandbox). */
  concurrency?: number;
}

export type TriggerKind = "http" | "event" | "cron" | "notify";

/** What a host function learns about the call it serves. */
export interface HostCallInfo {
  requestId: string;
  /** Aborted when the invocation ends or is killed; host work should stop. */
  signal: AbortSignal;
}

/**
 * A host function: async, receives and returns JSON-like values
 * (numbers, strings, booleans, null, arrays, plain objects, Date, Uint8Array).
 * Throwing an Error with `code`, `detail` surfaces as a guest Error with the
 * same fields. Throw a {@link HostBindingError} when the host itself failed
 * (not the guest's fault): an uncaught one maps to HTTP 502.
 */
export type HostFunction = (args: unknown[], info: HostCallInfo) => Promise<unknown>;

/**
 * Host functions by name. Names the guest `hangar` module and globals use:
 *  - "sql.query"   (text: string, params: unknown[], txId: string | null) -> rows: object[]
 *  - "sql.begin"   () -> txId: string
 *  - "sql.commit"  (txId) -> null ;  "sql.rollback" (txId) -> null
 *  - "vector.upsert" (collection: string, items: {id, embedding: number[], content?, metadata?}[]) -> { count }
 *  - "vector.search" (collection: string, embedding: number[], opts: { k?, filter? }) -> {id, score, content, metadata}[]
 *  - "vector.remove" (collection: string, ids: string[]) -> { count }
 *  - "fetch" (req: FetchRequestData) -> FetchResponseData
 *  - "cache.match" (cache: string | null, url) -> { status, headers, body } | null
 *  - "cache.put" (cache, url, status, headers: [string, string][], body: Uint8Array) -> null
 *  - "cache.delete" (cache, url) -> boolean   (cache null is caches.default)
 * A name the host did not hand in rejects in the guest with code "ENOSYS".
 */
export type HostFunctions = Record<string, HostFunction>;

// Every host function name the server hands an invocation (see HostFunctions), declared where the guest reads it too.
export { HOST_FUNCTION_NAMES, BUILTIN_FUNCTION_NAMES, flatArray, markJsonReady, type HostFunctionName } from "./contract.js";

export interface FetchRequestData {
  url: string;
  method: string;
  headers: [string, string][];
  body: Uint8Array | null;
  redirect: "follow" | "manual" | "error";
}

export interface FetchResponseData {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: Uint8Array;
  /** Final URL after redirects. */
  url: string;
  redirected: boolean;
}

export class HostBindingError extends Error {
  readonly code: string;
  constructor(message: string, code = "HOST_BINDING_FAILED", options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HostBindingError";
    this.code = code;
  }
}

export type ConsoleLevel = "debug" | "log" | "info" | "warn" | "error";

/** A host call's answer as the guest reads it: the codec's JSON text and buffers; `ok` false carries an error description. */
export interface HostReply { ok: boolean; json: string; buffers: Uint8Array[] }

/** Everything one invocation needs besides its trigger payload. */
export interface InvocationInput {
  requestId: string;
  /** Secrets and vars, as strings. */
  env: Record<string, string>;
  /** Verified JWT claims, or null. */
  auth: Record<string, unknown> | null;
  limits: Limits;
  host: HostFunctions;
  /**
   * Serves a name neither `host` nor the runtime's own builtins have (a
   * sandbox thread forwards those to the main thread, which holds the real
   * host functions); without it such a call rejects with ENOSYS. Arguments
   * and answer are as they cross to and from the guest: the codec's JSON text
   * and buffers (runtime/host-reply.ts).
   */
  forward?: (name: string, json: string, buffers: Uint8Array[]) => Promise<HostReply>;
  onConsole?: (level: ConsoleLevel, message: string) => void;
  /** Called once the invocation is over, its streamed body and waitUntil work included (bindings may close then). */
  onEnd?: (end?: InvocationEnd) => void;
  /** Watchdog tag of this invocation (the sandbox thread's invocation id). */
  tag?: number;
}

export interface InvocationStats {
  cpuMs: number;
  wallMs: number;
  /** WASM heap size of the instance at the end of the invocation, bytes. */
  memoryBytes: number;
  /** A fetch handler's response body when it was bytes (a streamed one is counted in `InvocationEnd`). */
  responseBytes?: number;
}

/** What is known only once an invocation is over; absent when it ended by failing before its instance could say. */
export interface InvocationEnd {
  /** CPU time of the whole invocation: the handler, its streamed body and its waitUntil work. */
  cpuMs: number;
  /** Bytes of a streamed response body handed on to the client; absent when the body was not a stream. */
  streamedBytes?: number;
}

export type FailureKind =
  | "threw"      // guest code threw / rejected: 500
  | "host"       // an uncaught HostBindingError: 502
  | "wall"       // wall-clock limit: 504
  | "cpu"        // CPU limit: 546
  | "memory"     // memory limit: 546
  | "stack"      // stack depth exceeded: 546
  | "no-handler" // the module has no handler for this trigger: 500
  | "bad-response" // fetch handler returned something that is not a Response: 500
  | "restarted"; // the sandbox thread was stopped because another invocation on it overran a limit: 503

export interface GuestFailure {
  kind: FailureKind;
  message: string;
  /** Guest stack as QuickJS printed it (bundle positions; the host maps them). */
  stack?: string;
  code?: string;
}

export type Outcome<T> =
  | { ok: true; value: T; stats: InvocationStats }
  | { ok: false; error: GuestFailure; stats: InvocationStats };

/** Non-HTTP trigger payloads, as the guest handler receives them. */
export type EventKind = "scheduled" | "event" | "notify";

/**
 * A request as plain data: what a server already parsed (absolute URL, method,
 * lower-case header pairs), handed to the guest without building a Request
 * first. `body` is the whole body, a stream of it, or null.
 */
export interface IncomingRequest {
  url: string;
  method: string;
  headers: [string, string][];
  body: Uint8Array | ReadableStream<Uint8Array> | null;
}

/** A warm, evaluated function version able to serve concurrent invocations. */
export interface FunctionInstance {
  readonly id: string;
  /** Run the fetch handler (module.fetch, bare default function, or Deno.serve). */
  fetch(request: Request | IncomingRequest, input: InvocationInput): Promise<Outcome<Response>>;
  /** Run `scheduled`, `event` or `notify` with a JSON-like payload. */
  dispatch(kind: EventKind, payload: unknown, input: InvocationInput): Promise<Outcome<unknown>>;
  /** Which handlers the module exports. */
  readonly handlers: ReadonlySet<"fetch" | EventKind>;
  /** The module's `export const config`, copied out as JSON-like data (undefined when absent). */
  readonly config: unknown;
  /** Current WASM heap bytes of this instance. */
  memoryBytes(): number;
  /** Dispose the context and module; safe to call twice. */
  close(): Promise<void>;
}
