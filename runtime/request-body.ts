// The host side of a request body the guest reads as a stream: the guest asks
// for one chunk per "request.read" call (see guest/streams.js pulledStream),
// so a guest that does not read leaves the client's socket unread beyond a
// small window. The mirror of body-stream.ts, which the host pulls from.

/** A request body up to this many bytes (declared) is read whole and handed over in one crossing; a longer or undeclared one streams. */
export const WHOLE_BODY_BYTES = 64 * 1024;

export class RequestBody {
  private reader: ReadableStreamDefaultReader<Uint8Array>;
  private done = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.reader = stream.getReader();
  }

  /** The next chunk, or null at the end; rejects with the stream's error (the body cap names itself there). */
  async read(): Promise<Uint8Array | null> {
    if (this.done) return null;
    const r = await this.reader.read();
    if (r.done) { this.done = true; return null; }
    return r.value;
  }

  /** Stop reading (the guest cancelled, or the invocation ended): what is left is the source's to discard; safe twice. */
  cancel(reason = "the invocation ended"): void {
    if (this.done) return;
    this.done = true;
    this.reader.cancel(reason).catch(() => {});
  }
}
