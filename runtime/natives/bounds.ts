// Size caps checked before a native does any work: a guest must never make the
// host build a string or buffer past V8's limits (which aborts the process) or
// spend unbounded host memory. Failures reach the guest as a RangeError.
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";

/** Caps on what natives accept and produce (chars for strings, bytes for buffers). */
export const BOUNDS = {
  /** Any string handed to a native that has no tighter cap. */
  text: 32 * 1024 * 1024,
  /** Any buffer handed to a native. */
  bytes: 64 * 1024 * 1024,
  /** What one native call may return. */
  output: 64 * 1024 * 1024,
  /** URLs (browsers stop at about 2 MB). */
  url: 2 * 1024 * 1024,
  /** A host-call or done report: JSON text plus buffers. */
  report: 64 * 1024 * 1024,
  /** One console line as the host receives it (the guest cuts at 1 MiB and adds a marker). */
  console: 1024 * 1024 + 256,
} as const;

/** A guest-visible RangeError naming the native and the cap. */
export class NativeBoundsError extends RangeError {
  constructor(what: string, size: number, cap: number, unit = "bytes") {
    super(`${what}: input of ${size} ${unit} exceeds Hangar's limit of ${cap} ${unit}`);
    this.name = "RangeError";
  }
}

/** Call the guest's JSON[method] on one handle (the path for strings C strings cannot carry). */
function guestJson(ctx: QuickJSContext, method: "parse" | "stringify", arg: QuickJSHandle): QuickJSHandle {
  const r = ctx.getProp(ctx.global, "JSON").consume((json) => ctx.getProp(json, method).consume((fn) => ctx.callFunction(fn, json, arg)));
  if (r.error) { r.error.dispose(); throw new TypeError(`could not carry a string across the sandbox boundary`); }
  return r.value;
}

/**
 * A guest string from a host one. quickjs-emscripten passes strings as C
 * strings, which end at the first NUL: a string holding one goes as JSON text.
 */
export function newGuestString(ctx: QuickJSContext, s: string): QuickJSHandle {
  if (!s.includes("\0")) return ctx.newString(s);
  return ctx.newString(JSON.stringify(s)).consume((h) => guestJson(ctx, "parse", h));
}

/** Readers that check a handle's size before copying it out of the guest. */
export function boundedReaders(ctx: QuickJSContext) {
  const lengthOf = (h: QuickJSHandle): number => {
    if (ctx.typeof(h) !== "string") return -1;
    return ctx.getProp(h, "length").consume((l) => ctx.getNumber(l));
  };
  return {
    /** The string in `h`, refused past `cap` chars (non-strings are stringified by the guest side). */
    str(h: QuickJSHandle, what: string, cap: number = BOUNDS.text): string {
      const n = lengthOf(h);
      if (n > cap) throw new NativeBoundsError(what, n, cap, "characters");
      const s = ctx.getString(h);
      // a NUL ends the C string, and lone surrogates change length: carry those as JSON text
      if (n < 0 || s.length === n) return s;
      return JSON.parse(guestJson(ctx, "stringify", h).consume((j) => ctx.getString(j))) as string;
    },
    /** A copy of the ArrayBuffer in `h`, refused past `cap` bytes. */
    bytes(h: QuickJSHandle, what: string, cap: number = BOUNDS.bytes): Uint8Array {
      const lifetime = ctx.getArrayBuffer(h);
      try {
        if (lifetime.value.byteLength > cap) throw new NativeBoundsError(what, lifetime.value.byteLength, cap);
        return lifetime.value.slice();
      } finally { lifetime.dispose(); }
    },
    /** Check a size the native is about to produce. */
    output(what: string, size: number, cap: number = BOUNDS.output): void {
      if (size > cap) throw new NativeBoundsError(`${what} (result)`, size, cap);
    },
  };
}
