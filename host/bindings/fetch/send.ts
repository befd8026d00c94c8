// One HTTP exchange for the guest's fetch, through undici's dispatcher API
// (`Agent.request`) rather than its WHATWG fetch: about a third of the CPU
// per call (measured against a local server: 63 against 177 us), which the
// main thread pays for every guest fetch. What fetch adds is added here: its
// default request headers, and the decoding of the content codings it knows
// (bodyWasDecoded says which).
import { Readable, Transform, pipeline, type TransformCallback } from "node:stream";
import * as zlib from "node:zlib";
import { Headers, type Agent } from "undici";
import { bodyWasDecoded, NULL_BODY_STATUS } from "./headers.ts";

/**
 * A response body read as it arrives (the subset of a stream reader the
 * binding uses), straight from undici's Node stream: a WHATWG stream per
 * exchange cost the main thread more than the exchange itself.
 */
export interface BodyReader {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  /** What `read` would give without waiting (what is buffered, or the end), or null when it would wait. */
  poll?(): ReadableStreamReadResult<Uint8Array> | null;
  /** Stop reading and end the exchange; safe twice. */
  cancel(): Promise<void>;
}

export interface Sent {
  status: number;
  statusText: string;
  headers: Headers;
  /** Whether the body was decoded (content-encoding and content-length no longer describe it). */
  decoded: boolean;
  /** The body as the guest gets it, or null when the response has none. */
  body: BodyReader | null;
}

export interface SendOptions {
  method: string;
  headers: [string, string][];
  body: Uint8Array | null;
  agent: Agent;
  signal: AbortSignal;
}

/** The request headers as a flat [name, value, ...] list, with those undici's fetch adds when the guest set none of that name. */
function withFetchDefaults(url: URL, headers: [string, string][]): string[] {
  const has = new Set<string>();
  const out: string[] = [];
  for (const [k, v] of headers) {
    has.add(k.toLowerCase());
    out.push(k, v);
  }
  const add = (k: string, v: string) => !has.has(k) && out.push(k, v);
  add("accept", "*/*");
  add("accept-language", "*");
  add("sec-fetch-mode", "cors");
  add("user-agent", "undici");
  add("accept-encoding", has.has("range") ? "identity" : url.protocol === "https:" ? "br, gzip, deflate" : "gzip, deflate");
  return out;
}

export async function send(url: URL, o: SendOptions): Promise<Sent> {
  const res = await o.agent.request({
    origin: url.origin,
    path: `${url.pathname}${url.search}`,
    method: o.method as "GET",
    headers: withFetchDefaults(url, o.headers),
    body: o.body,
    signal: o.signal,
  });
  const headers = new Headers();
  for (const [k, v] of Object.entries(res.headers)) {
    if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    else if (v !== undefined) headers.append(k, v);
  }
  if (o.method === "HEAD" || NULL_BODY_STATUS.has(res.statusCode)) {
    res.body.resume();
    return { status: res.statusCode, statusText: res.statusText, headers, decoded: false, body: null };
  }
  const encoding = headers.get("content-encoding");
  const decoded = bodyWasDecoded(o.method, res.statusCode, encoding);
  let body: Readable = res.body;
  if (decoded) {
    const codings = encoding!.toLowerCase().split(",").map((c) => c.trim());
    for (let i = codings.length - 1; i >= 0; i--) body = pipeline(body, decoder(codings[i]), () => {});
  }
  return { status: res.statusCode, statusText: res.statusText, headers, decoded, body: pulled(body) };
}

/**
 * A Node stream read as it arrives: each read takes everything buffered, and
 * waits only when nothing is. A stream destroyed before its end is an error,
 * never a short body. Cancelling destroys the source (and the exchange).
 */
function pulled(body: Readable): BodyReader {
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  // an error is read from `body.errored`; the listener keeps it from being unhandled
  body.on("readable", notify).on("end", notify).on("close", notify).on("error", notify);
  const state = (body as unknown as { _readableState?: { ended?: boolean } })._readableState;
  const poll = (): ReadableStreamReadResult<Uint8Array> | null => {
    if (body.errored) throw body.errored;
    const chunk = body.read() as Buffer | null;
    if (chunk !== null) return { done: false, value: chunk };
    // the end has arrived once the source pushed it and nothing is buffered ('end' itself is emitted a tick later)
    if (body.readableEnded || (state?.ended && body.readableLength === 0)) return { done: true, value: undefined };
    if (body.destroyed) throw body.errored ?? new Error("the response body ended early");
    return null;
  };
  return {
    poll,
    async read() {
      for (;;) {
        const r = poll();
        if (r) return r;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    async cancel() {
      body.destroy();
    },
  };
}

// As undici's fetch: flush what has arrived, and tolerate a body cut short at the end.
const ZLIB = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };
const BROTLI = { flush: zlib.constants.BROTLI_OPERATION_FLUSH, finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH };

function decoder(coding: string): Transform {
  switch (coding) {
    case "gzip":
    case "x-gzip":
      return zlib.createGunzip(ZLIB);
    case "deflate":
      return new Inflate();
    case "br":
      return zlib.createBrotliDecompress(BROTLI);
    default: // "zstd", when bodyWasDecoded lists it (Node has the decoder)
      return (zlib as unknown as { createZstdDecompress(): Transform }).createZstdDecompress();
  }
}

/** `deflate` as servers send it: zlib-wrapped as the RFC says, or raw (which browsers and undici accept too). */
class Inflate extends Transform {
  private z: zlib.Inflate | zlib.InflateRaw | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (!this.z) {
      if (chunk.length === 0) return done();
      this.z = (chunk[0] & 0x0f) === 0x08 ? zlib.createInflate(ZLIB) : zlib.createInflateRaw(ZLIB);
      this.z.on("data", (d: Buffer) => this.push(d));
      this.z.on("error", (err) => this.destroy(err));
    }
    this.z.write(chunk, () => done());
  }

  override _flush(done: TransformCallback): void {
    if (!this.z) return done();
    this.z.once("end", () => done());
    this.z.end();
  }
}
