/** What a request body over the `max`-byte cap is told (the 413's message, and the guest's failed read). */
export const bodyTooLargeMessage = (max: number) => `request body exceeds the limit of ${max} bytes`;

/** A body passing its byte cap while it streams; `code` is the HTTP error code the cap maps to. */
export class BodyTooLargeError extends Error {
  readonly code = "PAYLOAD_TOO_LARGE";
  constructor(readonly max: number) {
    super(bodyTooLargeMessage(max));
    this.name = "BodyTooLargeError";
  }
}

/**
 * `stream` read on demand (one chunk per pull, nothing read ahead), failing with
 * a BodyTooLargeError once it passes `max` bytes; `over()` says whether it did.
 * Cancelling it discards the rest (read and dropped, up to the cap) rather than
 * cancelling `stream`: the client may still be sending, and an HTTP connection
 * that stops reading a body it will not close stalls the client's upload.
 */
export function capStream(stream: ReadableStream<Uint8Array>, max: number): { stream: ReadableStream<Uint8Array>; over(): boolean } {
  const reader = stream.getReader();
  let total = 0;
  let over = false;
  let discarding = false;
  /** The next chunk, or null at the end or past the cap (then the source is cancelled). */
  const next = async (): Promise<Uint8Array | null> => {
    const r = await reader.read();
    if (r.done) return null;
    total += r.value.byteLength;
    if (total <= max) return r.value;
    // passing the cap while discarding is no one's error: the request was answered
    if (!discarding) over = true;
    await reader.cancel().catch(() => {});
    return null;
  };
  const capped = new ReadableStream<Uint8Array>({
    async pull(c) {
      const chunk = await next();
      if (chunk) c.enqueue(chunk);
      else if (total > max) c.error(new BodyTooLargeError(max));
      else c.close();
    },
    async cancel() {
      discarding = true;
      try {
        while (await next());
      } catch { /* the client went away: nothing left to discard */ }
    },
  }, { highWaterMark: 0 });
  return { stream: capped, over: () => over };
}
