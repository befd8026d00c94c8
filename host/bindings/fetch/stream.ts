// Streamed fetch response bodies: the binding hands the guest what has
// already arrived, and the guest pulls the rest chunk by chunk through
// "fetch.read" (an SSE proxy relays events as they come). Each open body is
// capped in bytes, has an idle timeout per read, and is cancelled when the
// invocation ends.
import { FetchError } from "./errors.ts";
import type { BodyReader } from "./send.ts";

/** Bytes gathered before answering the fetch call itself (a small body comes whole, in one call). */
const FIRST_BYTES = 64 * 1024;
/** Open bodies one invocation may hold. */
const MAX_OPEN = 64;

type Read = ReadableStreamReadResult<Uint8Array>;

interface Open {
  reader: BodyReader;
  pending: Promise<Read> | null;
  received: number;
  host: string;
}

export interface StreamLimits { maxResponseBytes: number; timeoutMs: number }

const immediate = () => new Promise<null>((r) => setImmediate(() => r(null)));

export class BodyStreams {
  private open = new Map<number, Open>();
  private next = 1;

  constructor(private limits: StreamLimits) {}

  /** What has arrived of `stream` by now: the whole body, or its start plus an id to read the rest with. */
  async start(body: BodyReader | null, host: string, signal: AbortSignal): Promise<{ body: Uint8Array; bodyStream?: number }> {
    if (!body) return { body: new Uint8Array(0) };
    const o: Open = { reader: body, pending: null, received: 0, host };
    const parts: Uint8Array[] = [];
    try {
      let r: Read | null = await o.reader.read();
      for (;;) {
        if (r.done) return { body: join(parts) };
        parts.push(this.count(o, r.value));
        if (o.received >= FIRST_BYTES) break;
        // keep reading only what is already buffered: a stream that pauses is answered now
        if (o.reader.poll) {
          r = o.reader.poll();
        } else {
          o.pending = o.reader.read();
          r = await Promise.race([o.pending, immediate()]);
          if (r !== null) o.pending = null;
        }
        if (r === null) break;
      }
    } catch (err) {
      o.reader.cancel().catch(() => {});
      throw err;
    }
    if (this.open.size >= MAX_OPEN) {
      o.reader.cancel().catch(() => {});
      throw new FetchError("FETCH_FAILED", `fetch to ${host} failed: more than ${MAX_OPEN} response bodies are open in this invocation`);
    }
    const id = this.next++;
    this.open.set(id, o);
    signal.addEventListener("abort", () => this.cancel(id), { once: true });
    return { body: join(parts), bodyStream: id };
  }

  /** The next chunk of body `id` (null when it ended). */
  async read(id: number): Promise<Uint8Array | null> {
    const o = this.open.get(id);
    if (!o) throw new FetchError("FETCH_FAILED", "fetch: that response body is closed");
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new FetchError("FETCH_TIMEOUT", `fetch to ${o.host}: no body data for ${this.limits.timeoutMs} ms`)), this.limits.timeoutMs);
    });
    try {
      const r = await Promise.race([o.pending ?? o.reader.read(), idle]);
      o.pending = null;
      if (r.done) { this.open.delete(id); return null; }
      return this.count(o, r.value);
    } catch (err) {
      this.cancel(id);
      throw err instanceof FetchError ? err : new FetchError("FETCH_FAILED", `fetch to ${o.host} failed while reading the body: ${(err as Error)?.message ?? String(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stop reading body `id` (the guest cancelled it or the invocation ended); safe twice. */
  cancel(id: number): void {
    const o = this.open.get(id);
    if (!o) return;
    this.open.delete(id);
    o.reader.cancel().catch(() => {});
  }

  private count(o: Open, chunk: Uint8Array): Uint8Array {
    o.received += chunk.byteLength;
    if (o.received > this.limits.maxResponseBytes) {
      throw new FetchError("RESPONSE_TOO_LARGE", `fetch to ${o.host} failed: response body exceeds the ${this.limits.maxResponseBytes}-byte limit`);
    }
    return chunk;
  }
}

function join(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.byteLength; }
  return out;
}
