// The host side of a guest Response whose body is a stream: a ReadableStream
// that asks the guest for chunks when it is read (so the socket's
// backpressure reaches the guest), and tells the guest when the client goes
// away.
//
// One entry into the guest per chunk cost about as much as the chunk's own
// work, and every chunk then crossed to the main thread and the socket on
// its own. So an ask is for a few chunks (1 first, so the first byte goes out
// alone, then doubling up to PULL_CHUNKS or PULL_BYTES), and the chunks the
// guest hands over within one run of host code go on as one.

import { concatBytes } from "./concat-bytes.ts";

/** How long a streamed response may keep streaming (SSE, LLM output), or the wall limit when that is longer. */
export const STREAMED_WALL_MS = 5 * 60_000;

/** The most chunks, and about the most bytes, one ask takes from the guest. */
export const PULL_CHUNKS = 32;
export const PULL_BYTES = 64 * 1024;

export class GuestBody {
  /** Bytes handed to the client so far. */
  bytes = 0;
  readonly stream: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private waiting: (() => void) | null = null;
  private done = false;
  /** The guest is reading for an ask (it has not sent the ask's last chunk). */
  private asked = false;
  private nextAsk = 1;
  /** Chunks come in this run of host code, enqueued together when it ends. */
  private held: Uint8Array[] = [];
  private flushing = false;

  /** `pull(chunks, bytes)` asks the guest for more of its body; `cancel` tells it the client is gone. */
  constructor(private readonly pull: (chunks: number, bytes: number) => void, cancel: (reason: string) => void) {
    this.stream = new ReadableStream<Uint8Array>({
      start: (c) => { this.controller = c; },
      pull: () => {
        if (this.done) return;
        return new Promise<void>((resolve) => {
          this.waiting = resolve;
          if (!this.asked) this.ask();
        });
      },
      cancel: (reason) => {
        if (this.done) return;
        this.done = true;
        this.held = [];
        this.release();
        cancel(reason instanceof Error ? reason.message : String(reason ?? "the client went away"));
      },
    }, { highWaterMark: 0 });
  }

  get open(): boolean { return !this.done; }

  /** A chunk from the guest; `more`: it goes on reading for the same ask. */
  chunk(b: Uint8Array, more: boolean): void {
    if (this.done) return;
    if (!more) this.asked = false;
    if (b.byteLength) this.held.push(b);
    if (!this.flushing) {
      this.flushing = true;
      queueMicrotask(this.flush);
    }
  }

  end(): void {
    if (this.done) return;
    this.enqueueHeld();
    this.done = true;
    this.controller.close();
    this.release();
  }

  error(message: string): void {
    if (this.done) return;
    this.enqueueHeld(); // a reader already waiting gets them before the error, as it would have one by one
    this.done = true;
    this.controller.error(new Error(message));
    this.release();
  }

  private ask(): void {
    this.asked = true;
    const n = this.nextAsk;
    this.nextAsk = Math.min(n * 2, PULL_CHUNKS);
    this.pull(n, PULL_BYTES);
  }

  private readonly flush = (): void => {
    this.flushing = false;
    if (this.done) return;
    if (this.enqueueHeld()) this.release();
    // an ask answered with empty chunks only: the reader still waits, so ask again
    else if (this.waiting && !this.asked) this.ask();
  };

  private enqueueHeld(): boolean {
    const held = this.held;
    if (!held.length) return false;
    this.held = [];
    const out = held.length === 1 ? held[0] : concatBytes(held);
    this.bytes += out.byteLength;
    this.controller.enqueue(out);
    return true;
  }

  private release(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }
}
