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
  /** One console line as the host receives it. */
  console: 1024 * 1024,
} as const;

/** A guest-visible RangeError naming the native and the cap. */
export class NativeBoundsError extends RangeError {
  constructor(what: string, size: number, cap: number, unit = "bytes") {
    super(`${what}: input of ${size} ${unit} exceeds Hangar's limit of ${cap} ${unit}`);
    this.name = "RangeError";
  }
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
      return ctx.getString(h);
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
