// The contract between the host (main thread) and the sandbox threads: every
// message either side may send, and the shared watchdog cells. Values cross
// by structured clone (plain objects, arrays, strings, numbers, booleans,
// null, Date, Uint8Array); what the guest reads goes as few values as it can,
// strings above all (one string clones for a fraction of a nested value): a
// request as its fetch head (runtime/fetch-head.ts), a host call's arguments
// and answer in the guest <-> host value codec's text (runtime/contract.js,
// runtime/host-reply.ts), a text body as its string. Host functions stay on
// the main thread; their names are listed in runtime/contract.js
// (HOST_FUNCTION_NAMES): the thread forwards every call it cannot serve
// itself, and the main thread answers ENOSYS for a name the invocation was
// not handed.
import type { ConsoleLevel, EventKind, FailureKind, GuestFailure, InvocationEnd, InvocationStats, Limits } from "../types.ts";
import type { Layout } from "../engine.ts";

/** What the thread is given when it starts. */
export interface ThreadData {
  /** The compiled QuickJS WebAssembly.Module (compiled once on the main thread). */
  wasm: WebAssembly.Module;
  /** Its memory layout (read from the binary on the main thread). */
  layout: Layout;
  /** Whether instances are restored from memory snapshots. */
  snapshots: boolean;
  /** The guest prelude script (bundled once on the main thread). */
  prelude: string;
  /** Watchdog cells, see WATCH_* below. */
  watch: SharedArrayBuffer;
  /** Offer slots (Int32Array of CLAIM_SLOTS), see claimSlot below. */
  claims: SharedArrayBuffer;
}

// An invocation sent to a thread is offered, not handed over: the main thread
// stores its id in the slot claimSlot(id) before sending; the thread takes it
// by swapping the id for CLAIMED, and drops the message when the id is no
// longer there. While the thread is stalled by another guest, the main thread
// revokes (swaps the id for 0) what was offered and not yet taken, and starts
// it on another thread: a request is never stuck behind someone else's spin.
export const CLAIM_SLOTS = 16384;
export const CLAIMED = -1;
export const claimSlot = (inv: number): number => inv % CLAIM_SLOTS;

// Watchdog cells (Float64Array over ThreadData.watch), written by the thread
// around every run segment and read by the main thread's watchdog:
/** Time origin based deadline (ms since epoch) of the segment running now; 0 when none runs. */
export const WATCH_DEADLINE = 0;
/** Invocation id the running segment is charged to (-1: loading or housekeeping). */
export const WATCH_INV = 1;
/** 1 when the segment's deadline is its CPU budget, 2 when it is the wall limit. */
export const WATCH_KIND = 2;
/** When the running segment started (ms since epoch). */
export const WATCH_START = 3;
/** The thread's Linux thread id (0 when unknown): the watchdog reads its CPU time from /proc. */
export const WATCH_TID = 4;
/** Set to 1 by the main thread (Int32Array index 10 = byte 40, after the Float64 cells): interrupt the running segment now. */
export const WATCH_INTERRUPT_I32 = 10;
export const WATCH_BYTES = 48;

/**
 * A request for the guest (its body follows as a stream when `body` is true):
 * its fetch head (runtime/fetch-head.ts) made on the main thread, or its
 * fields when a field does not fit one.
 */
export type RequestData = (
  | { head: string }
  | { head?: undefined; url: string; method: string; headers: [string, string][] }
) & {
  body: boolean;
  /** The whole (small) body, sent inline; `body` is then false. */
  bytes?: Uint8Array;
};

export interface InvokeInputData {
  requestId: string;
  env: Record<string, string>;
  auth: Record<string, unknown> | null;
  limits: Limits;
  /** Whether console lines are wanted. */
  console: boolean;
}

/** Main -> sandbox thread. */
export type ToThread =
  /** `snapshot`: the version's memory snapshot, if the pool keeps one (verified by the thread before use). */
  | { t: "load"; key: number; id: string; bundle: string; filename?: string; limits: Limits; env?: Record<string, string>; snapshot?: Uint8Array }
  | { t: "unload"; key: number }
  | { t: "invoke"; inv: number; key: number; kind: "fetch"; request: RequestData; input: InvokeInputData }
  | { t: "invoke"; inv: number; key: number; kind: EventKind; payload: unknown; input: InvokeInputData }
  /** A host call finished: its result, or when !ok an error description, encoded for the guest (runtime/host-reply.ts). */
  | { t: "hostReply"; call: number; ok: boolean; json: string; buffers: Uint8Array[] }
  /** Request body of `inv` (main -> thread stream), one chunk per credit; `chunk` null ends it (failed when `error` is set). */
  | { t: "reqChunk"; inv: number; chunk: Uint8Array | null; error?: string; code?: string }
  /** The main thread may take `n` more response-body chunks of `inv`. */
  | { t: "credit"; inv: number; n: number }
  /** The client stopped reading the response body of `inv`. */
  | { t: "cancel"; inv: number }
  | { t: "close" };

export interface ErrorData {
  message: string;
  name?: string;
  stack?: string;
  kind?: string;
  code?: string;
  detail?: string;
  host?: boolean;
}

export interface ResponseHead {
  status: number;
  statusText: string;
  headers: [string, string][];
  /** A body follows as `resChunk` messages. */
  body: boolean;
  /** The whole body, when the guest answered with bytes (sent inline: no stream, no credit). */
  bytes?: Uint8Array;
  /** The whole body, when the guest answered with text (encoded where it is written). */
  text?: string;
}

/** Sandbox thread -> main. */
export type FromThread =
  | { t: "ready" }
  /** `snapshotFollows`: the bundle was evaluated; a "snapshot" message comes next. */
  | { t: "loaded"; key: number; handlers: ("fetch" | EventKind)[]; config: unknown; memoryBytes: number; snapshotFollows: boolean }
  /** The snapshot a load made, for the pool to keep (none when it could not be taken). */
  | { t: "snapshot"; key: number; snapshot?: Uint8Array }
  | { t: "loadFailed"; key: number; error: ErrorData }
  /** The instance was thrown away (a limit hit inside it, or recycled after growing). */
  | { t: "dead"; key: number }
  /** The invocation was taken after its instance died (a limit hit by another invocation): start it again on a fresh one. */
  | { t: "requeue"; inv: number }
  | { t: "console"; inv: number; key: number; level: ConsoleLevel; message: string }
  /** A guest's call of a host function the main thread holds; its arguments as the guest encoded them. */
  | { t: "host"; inv: number; call: number; name: string; json: string; buffers: Uint8Array[] }
  /** The invocation's handler answered (or failed); `ended`: it is over too (no "ended" message follows). */
  | { t: "result"; inv: number; ok: true; value?: unknown; response?: ResponseHead; stats: InvocationStats; ended?: boolean; end?: InvocationEnd }
  | { t: "result"; inv: number; ok: false; error: GuestFailure; stats: InvocationStats; ended?: boolean; end?: InvocationEnd }
  /** The invocation is over (its waitUntil work too): host work for it may stop. */
  | { t: "ended"; inv: number; end?: InvocationEnd }
  /** Response body of `inv` (thread -> main stream), one chunk per credit; null ends it. */
  | { t: "resChunk"; inv: number; chunk: Uint8Array | null; error?: string }
  /** The thread may take `n` more request-body chunks (it grants them as the guest reads). */
  | { t: "reqCredit"; inv: number; n: number }
  | { t: "memory"; key: number; bytes: number };

/** Chunks a reader may have in flight before it must wait for credit. */
export const STREAM_WINDOW = 4;

/** Failure kinds the watchdog reports when it stops a thread. */
export type WatchKind = Extract<FailureKind, "cpu" | "wall">;

// The messages every request sends go packed into flat arrays, which Node's
// structured clone copies for about a third of what nested objects cost
// (100,000 posts of a hello's result: 4.4-4.9 us each as the object, 1.7 as
// the array, sender CPU): a fetch invocation with a fetch head and its answer
// with a response, and a host call and its reply (every SQL statement, fetch
// and vector search). Senders pass every message through packToThread /
// packFromThread, receivers through unpackToThread / unpackFromThread, and
// see the message it was; the rest travel as they are.

/** An "invoke" of a fetch handler whose request has a fetch head, packed. */
export type PackedInvoke = [t: "I", inv: number, key: number, head: string, body: boolean, bytes: Uint8Array | undefined,
  requestId: string, env: Record<string, string>, auth: Record<string, unknown> | null, console: boolean,
  cpuMs: number, wallMs: number, memoryMb: number, subrequests: number, concurrency: number | undefined];

/** A fetch invocation's answer with a response head, packed; headers flat, name then value. */
export type PackedResult = [t: "R", inv: number, status: number, statusText: string, headers: string[], body: boolean,
  bytes: Uint8Array | undefined, text: string | undefined, cpuMs: number, wallMs: number, memoryBytes: number,
  responseBytes: number | undefined, ended: boolean, endCpuMs: number | undefined, streamedBytes: number | undefined];

/** A "host" call, packed; no buffers is undefined (an empty array would clone as one more object). */
export type PackedHost = [t: "H", inv: number, call: number, name: string, json: string, buffers: Uint8Array[] | undefined];

/** A "hostReply", packed likewise. */
export type PackedHostReply = [t: "h", call: number, ok: boolean, json: string, buffers: Uint8Array[] | undefined];

export type PackedToThread = PackedInvoke | PackedHostReply;
export type PackedFromThread = PackedResult | PackedHost;

type InvokeMessage = Extract<ToThread, { t: "invoke" }>;
type ResultMessage = Extract<FromThread, { t: "result" }>;

export function packToThread(m: ToThread): ToThread | PackedToThread {
  if (m.t === "invoke") return packInvoke(m) ?? m;
  if (m.t === "hostReply") return ["h", m.call, m.ok, m.json, m.buffers.length ? m.buffers : undefined];
  return m;
}

export function unpackToThread(m: ToThread | PackedToThread): ToThread {
  if (!Array.isArray(m)) return m;
  return m[0] === "I" ? unpackInvoke(m) : { t: "hostReply", call: m[1], ok: m[2], json: m[3], buffers: m[4] ?? [] };
}

export function packFromThread(m: FromThread): FromThread | PackedFromThread {
  if (m.t === "result") return packResult(m) ?? m;
  if (m.t === "host") return ["H", m.inv, m.call, m.name, m.json, m.buffers.length ? m.buffers : undefined];
  return m;
}

export function unpackFromThread(m: FromThread | PackedFromThread): FromThread {
  if (!Array.isArray(m)) return m;
  return m[0] === "R" ? unpackResult(m) : { t: "host", inv: m[1], call: m[2], name: m[3], json: m[4], buffers: m[5] ?? [] };
}

/** `m` packed, when it is a fetch invocation with a fetch head; else null. */
export function packInvoke(m: InvokeMessage): PackedInvoke | null {
  if (m.kind !== "fetch" || m.request.head === undefined) return null;
  const r = m.request, i = m.input, l = i.limits;
  return ["I", m.inv, m.key, r.head, r.body, r.bytes, i.requestId, i.env, i.auth, i.console, l.cpuMs, l.wallMs, l.memoryMb, l.subrequests, l.concurrency];
}

export function unpackInvoke(p: PackedInvoke): InvokeMessage {
  const limits: Limits = { cpuMs: p[10], wallMs: p[11], memoryMb: p[12], subrequests: p[13] };
  if (p[14] !== undefined) limits.concurrency = p[14];
  const request: RequestData = { head: p[3], body: p[4] };
  if (p[5] !== undefined) request.bytes = p[5];
  return { t: "invoke", inv: p[1], key: p[2], kind: "fetch", request, input: { requestId: p[6], env: p[7], auth: p[8], console: p[9], limits } };
}

/** `m` packed, when it answers with a response; else null. */
export function packResult(m: ResultMessage): PackedResult | null {
  if (!m.ok || !m.response) return null;
  const r = m.response, s = m.stats;
  const headers: string[] = [];
  for (const [k, v] of r.headers) headers.push(k, v);
  return ["R", m.inv, r.status, r.statusText, headers, r.body, r.bytes, r.text, s.cpuMs, s.wallMs, s.memoryBytes, s.responseBytes, m.ended === true, m.end?.cpuMs, m.end?.streamedBytes];
}

export function unpackResult(p: PackedResult): ResultMessage {
  const flat = p[4];
  const headers: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) headers.push([flat[i], flat[i + 1]]);
  const response: ResponseHead = { status: p[2], statusText: p[3], headers, body: p[5] };
  if (p[6] !== undefined) response.bytes = p[6];
  if (p[7] !== undefined) response.text = p[7];
  const stats: InvocationStats = { cpuMs: p[8], wallMs: p[9], memoryBytes: p[10] };
  if (p[11] !== undefined) stats.responseBytes = p[11];
  const m: ResultMessage = { t: "result", inv: p[1], ok: true, response, stats };
  if (p[12]) {
    m.ended = true;
    if (p[13] !== undefined) m.end = p[14] !== undefined ? { cpuMs: p[13], streamedBytes: p[14] } : { cpuMs: p[13] };
  }
  return m;
}
