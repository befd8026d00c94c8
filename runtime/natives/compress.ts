// CompressionStream / DecompressionStream: Node's zlib. Node has no public
// synchronous incremental zlib, so a stream's input is gathered on the host
// (capped) and (de)compressed in one call at its end; the output is capped
// too, so a decompression bomb fails as a RangeError in the guest.
import zlib from "node:zlib";
import type { QuickJSContext } from "quickjs-emscripten-core";
import type { NativeFns, NativeTools } from "./index.ts";
import { BOUNDS } from "./bounds.ts";

/** Open (de)compressors per instance: an abandoned stream holds one until the instance goes. */
const MAX_OPEN = 256;

const CODECS: Record<string, (b: Buffer, o: zlib.ZlibOptions) => Buffer> = {
  "compress:gzip": zlib.gzipSync,
  "compress:deflate": zlib.deflateSync,
  "compress:deflate-raw": zlib.deflateRawSync,
  "decompress:gzip": zlib.gunzipSync,
  "decompress:deflate": zlib.inflateSync,
  "decompress:deflate-raw": zlib.inflateRawSync,
};

interface Pending { codec: (b: Buffer, o: zlib.ZlibOptions) => Buffer; chunks: Uint8Array[]; size: number }

export function compressNatives(ctx: QuickJSContext, t: NativeTools): NativeFns {
  const open = new Map<number, Pending>();
  let next = 1;
  const get = (id: number) => {
    const p = open.get(id);
    if (!p) throw new TypeError("the compression stream is closed");
    return p;
  };
  return {
    zlibOpen: (mode, format) => {
      const codec = CODECS[`${t.str(mode, "zlib mode", 16)}:${t.str(format, "zlib format", 16)}`];
      if (!codec) return ctx.null;
      if (open.size >= MAX_OPEN) throw new RangeError(`more than ${MAX_OPEN} compression streams are open in this function`);
      const id = next++;
      open.set(id, { codec, chunks: [], size: 0 });
      return ctx.newNumber(id);
    },
    zlibWrite: (id, chunk) => {
      const p = get(t.num(id));
      const b = t.bytes(chunk, "compression stream", BOUNDS.bytes - p.size);
      p.chunks.push(b);
      p.size += b.byteLength;
    },
    zlibEnd: (id) => {
      const n = t.num(id);
      const p = get(n);
      open.delete(n);
      try {
        return t.newBytes("compression stream", p.codec(Buffer.concat(p.chunks), { maxOutputLength: BOUNDS.output }));
      } catch (e) {
        const err = e as Error & { code?: string };
        if (err.code === "ERR_BUFFER_TOO_LARGE") throw new RangeError(`decompressed data exceeds Hangar's limit of ${BOUNDS.output} bytes`);
        throw new TypeError(`The compressed data was not valid: ${err.message}`);
      }
    },
    zlibClose: (id) => { open.delete(t.num(id)); },
  };
}
