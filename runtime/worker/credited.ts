// A ReadableStream fed by chunk messages from another thread. It grants the
// sender credit for at most STREAM_WINDOW chunks beyond what has been read
// (queued here or on their way), so
// a reader that stops reading stops the sender: a guest's response body read
// on the main thread, and a request body read on a sandbox thread.
import { STREAM_WINDOW } from "./protocol.ts";

export class CreditedStream {
  readonly stream: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private wake: (() => void) | undefined;
  private done = false;

  /**
   * `credit(n)` lets the sender send n more chunks; `cancel()` says the reader
   * stopped; `outstanding` is the credit the sender already holds.
   */
  constructor(credit: (n: number) => void, cancel: () => void, private outstanding = 0) {
    this.stream = new ReadableStream<Uint8Array>({
      start: (c) => { this.controller = c; },
      pull: () => {
        if (this.done) return;
        // room left in the window, counting chunks queued and chunks already granted
        const room = (this.controller.desiredSize ?? 0) - this.outstanding;
        if (room > 0) {
          credit(room);
          this.outstanding += room;
        }
        return new Promise<void>((resolve) => { this.wake = resolve; });
      },
      cancel: () => {
        if (this.done) return;
        this.done = true;
        this.release();
        cancel();
      },
    }, { highWaterMark: STREAM_WINDOW });
  }

  /** A chunk message: bytes, or the end (null), failed when `error` is given. */
  push(chunk: Uint8Array | null, error?: Error): void {
    if (this.done) return;
    if (chunk) {
      this.outstanding--;
      this.controller.enqueue(chunk);
    } else {
      this.done = true;
      if (error) this.controller.error(error);
      else this.controller.close();
    }
    this.release();
  }

  private release(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
