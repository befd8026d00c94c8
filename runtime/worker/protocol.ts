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
