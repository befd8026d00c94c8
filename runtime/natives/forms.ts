// multipart/form-data: the host finds part boundaries with Buffer.indexOf
// (a byte loop in the interpreter is slow); the guest reads each part.
import type { QuickJSContext } from "quickjs-emscripten-core";
import type { NativeFns, NativeTools } from "./index.ts";

/** RFC 2046 allows 70; some clients send a little more. */
const MAX_BOUNDARY = 200;

/** [start, end, ...] of each part's bytes (headers and content), or null when malformed. */
export function splitMultipart(buf: Buffer, boundary: string): number[] | null {
  const delim = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  let i = buf.indexOf(delim);
  if (i < 0) return null;
  const out: number[] = [];
  for (;;) {
    let p = i + delim.length;
    if (buf[p] === 45 && buf[p + 1] === 45) return out;
    while (buf[p] === 32 || buf[p] === 9) p++;
    if (buf[p] !== 13 || buf[p + 1] !== 10) return null;
    p += 2;
    const end = buf.indexOf(next, p);
    if (end < 0) return null;
    out.push(p, end);
    i = end + 2;
  }
}

export function formNatives(ctx: QuickJSContext, t: NativeTools): NativeFns {
  return {
    multipartSplit: (buf, boundary) => {
      const b = t.str(boundary, "multipart boundary", MAX_BOUNDARY);
      const bytes = t.bytes(buf, "multipart body");
      const parts = splitMultipart(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), b);
      return parts === null ? ctx.null : t.newString("multipart body", JSON.stringify(parts));
    },
  };
}
