// The host side of a guest Response whose body is a stream: a ReadableStream
// that asks the guest for one chunk per pull (so the socket's backpressure
// reaches the guest), and tells the guest when the client goes away.

/** How long a streamed response may keep streaming (SSE, LLM output), or the wall limit when that is longer. */
export const STREAMED_WALL_MS = 5 * 60_000;

export class GuestBody {
  /** Bytes handed to the client so far. */
  bytes = 0;
  readonly stream: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private waiting: (() => void) | null = null;
  private done = false;

  /** `pull` asks the guest for its next chunk; `cancel` tells it the client is gone. */
  constructor(pull: () => void, cancel: (reason: string) => void) {
    this.stream = new ReadableStream<Uint8Array>({
      start: (c) => { this.controller = c; },
      pull: () => {
        if (this.done) return;
        return new Promise<void>((resolve) => { this.waiting = resolve; pull(); });
      },
      cancel: (reason) => {
        if (this.done) return;
        this.done = true;
        this.release();
        cancel(reason instanceof Error ? reason.message : String(reason ?? "the client went away"));
      },
    }, { highWaterMark: 0 });
  }

  get open(): boolean { return !this.done; }

  chunk(b: Uint8Array): void {
    if (this.done) return;
    this.bytes += b.byteLength;
    if (b.byteLength) this.controller.enqueue(b);
    this.release();
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    this.controller.close();
    this.release();
  }

  error(message: string): void {
    if (this.done) return;
    this.done = true;
    this.controller.error(new Error(message));
    this.release();
  }

  private release(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }
}
