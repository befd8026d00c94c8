// WHATWG Streams: web-streams-polyfill (the spec's reference implementation),
// loaded on first use so functions that never touch a stream do not pay to
// evaluate it. Text and compression streams are TransformStreams over the
// host's codecs.
import { native, bytesOf, bufferOf, evalLib } from "./native.js";

let ws = null;
/** The streams implementation, evaluated on first use. */
export function streams() {
  return (ws ??= evalLib(__HANGAR_LIB_STREAMS__));
}

export function isReadableStream(v) {
  return ws !== null && v instanceof ws.ReadableStream;
}

/** True once the stream has been read from or cancelled. */
export function isDisturbed(stream) { return stream._disturbed === true; }

/** A ReadableStream of one chunk. */
export function streamOfBytes(bytes) {
  const { ReadableStream } = streams();
  return new ReadableStream({
    type: "bytes",
    start(c) { if (bytes.byteLength) c.enqueue(bytes.slice()); c.close(); },
  });
}

/**
 * A stream whose chunks the guest pulls from the host one call at a time: `read()` resolves
 * the next chunk or null at the end; `cancel()` tells the host to stop. `first` is enqueued
 * at once; `failed` turns a read's error into the stream's. `error(reason)` errors the stream
 * (readers get `reason`, locked or not) and tells the host to stop.
 * @param {() => Promise<Uint8Array | null>} read
 * @param {() => void} cancel
 * @param {Uint8Array | null} [first]
 * @param {(e: any) => unknown} [failed]
 */
export function pulledStream(read, cancel, first = null, failed = (e) => e) {
  let done = false;
  /** @type {ReadableStreamDefaultController<Uint8Array>} */
  let ctrl;
  const stream = new (streams().ReadableStream)({
    start(c) { ctrl = c; if (first && first.byteLength) c.enqueue(first); },
    async pull(c) {
      let chunk;
      try {
        chunk = await read();
      } catch (e) {
        if (done) return;
        done = true;
        c.error(failed(e));
        return;
      }
      if (done) return; // errored meanwhile
      if (chunk === null) { done = true; c.close(); } else c.enqueue(chunk);
    },
    cancel() { if (!done) { done = true; cancel(); } },
  }, { highWaterMark: 0 });
  /** @param {unknown} reason */
  const error = (reason) => { if (!done) { done = true; ctrl.error(reason); cancel(); } };
  return { stream, error };
}

/** Every chunk of a byte stream, joined (chunks must be BufferSources). */
export async function readAll(stream, what = "body") {
  const reader = stream.getReader();
  const parts = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const b = typeof value === "string" ? null : bytesOf(value);
    if (!b) { reader.releaseLock(); throw new TypeError(`the ${what} stream produced a chunk that is not a Uint8Array`); }
    parts.push(b.slice());
    size += b.byteLength;
  }
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.byteLength; }
  return out;
}

function makeTextEncoderStream() {
  const { TransformStream } = streams();
  return class TextEncoderStream extends TransformStream {
    constructor() {
      let pending = "";
      super({
        transform(chunk, c) {
          let s = pending + String(chunk);
          pending = "";
          const last = s.charCodeAt(s.length - 1);
          if (last >= 0xd800 && last <= 0xdbff) { pending = s.slice(-1); s = s.slice(0, -1); }
          if (s.length) c.enqueue(new Uint8Array(native.utf8Encode(s)));
        },
        flush(c) { if (pending) c.enqueue(new Uint8Array([0xef, 0xbf, 0xbd])); },
      });
    }
    get encoding() { return "utf-8"; }
  };
}

function makeTextDecoderStream(TextDecoder) {
  const { TransformStream } = streams();
  return class TextDecoderStream extends TransformStream {
    constructor(label = "utf-8", options = {}) {
      const decoder = new TextDecoder(label, options);
      super({
        transform(chunk, c) {
          const b = bytesOf(chunk);
          if (!b) throw new TypeError("TextDecoderStream: chunk is not a BufferSource");
          const s = decoder.decode(b, { stream: true });
          if (s) c.enqueue(s);
        },
        flush(c) { const s = decoder.decode(); if (s) c.enqueue(s); },
      });
      this._decoder = decoder;
    }
    get encoding() { return this._decoder.encoding; }
    get fatal() { return this._decoder.fatal; }
    get ignoreBOM() { return this._decoder.ignoreBOM; }
  };
}

function makeZlibStream(mode, name) {
  const { TransformStream } = streams();
  return class extends TransformStream {
    constructor(format) {
      const fmt = String(format);
      const id = native.zlibOpen(mode, fmt);
      if (id === null) throw new TypeError(`Failed to construct '${name}': Unsupported compression format: '${fmt}'`);
      super({
        transform(chunk) {
          const b = bytesOf(chunk);
          if (!b) throw new TypeError(`${name}: chunk is not a BufferSource`);
          native.zlibWrite(id, bufferOf(b));
        },
        flush(c) { const out = new Uint8Array(native.zlibEnd(id)); if (out.byteLength) c.enqueue(out); },
        cancel() { native.zlibClose(id); },
      });
    }
    static get name() { return name; }
  };
}

const made = new Map();
const once = (key, make) => () => { if (!made.has(key)) made.set(key, make()); return made.get(key); };

/** Global name -> lazy getter of its class. */
export function streamGlobals(TextDecoder) {
  const fromWs = (n) => () => streams()[n];
  const out = {};
  for (const n of ["ReadableStream", "ReadableStreamDefaultReader", "ReadableStreamBYOBReader", "ReadableStreamBYOBRequest", "ReadableByteStreamController",
    "ReadableStreamDefaultController", "WritableStream", "WritableStreamDefaultWriter", "WritableStreamDefaultController", "TransformStream",
    "TransformStreamDefaultController", "ByteLengthQueuingStrategy", "CountQueuingStrategy"]) out[n] = fromWs(n);
  out.TextEncoderStream = once("TextEncoderStream", makeTextEncoderStream);
  out.TextDecoderStream = once("TextDecoderStream", () => makeTextDecoderStream(TextDecoder));
  out.CompressionStream = once("CompressionStream", () => makeZlibStream("compress", "CompressionStream"));
  out.DecompressionStream = once("DecompressionStream", () => makeZlibStream("decompress", "DecompressionStream"));
  return out;
}
