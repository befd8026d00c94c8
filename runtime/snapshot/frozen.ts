// Copies of an instance's memory frozen for a snapshot made later
// (Instance.freezeState). Fresh memory costs its page faults, which are dear
// on virtual machines that trap them (~10 µs per 4 KiB page measured here: a
// fresh 10 MiB copy takes 25 ms, into memory already touched 1 ms). So one
// buffer is kept per thread and reused; a copy wanted while it is in use, or
// larger than KEEP_BYTES, gets its own.

/**
 * The kept buffer's size. Pages nobody wrote are not backed: it is resident up
 * to the largest copy made in it, and only pages past that fault on a larger one.
 */
const KEEP_BYTES = 32 * 1024 * 1024;

export interface FrozenCopy {
  /** The copied bytes, from offset 0 of the memory. */
  bytes: Uint8Array;
  /** Done with the copy; safe twice. */
  release(): void;
}

let kept: ArrayBuffer | null = null;
let inUse = false;

/**
 * A copy of `from`, in the kept buffer when it is free, but for the byte range
 * `gap` (the C stack no code reaches: reading a page the module never wrote can
 * make the system back it, a copy would then cost each instance megabytes).
 * What the copy holds in the gap is unspecified.
 */
export function frozenCopy(from: Uint8Array, gap: [number, number]): FrozenCopy {
  const own = inUse || from.byteLength > KEEP_BYTES;
  if (!own) kept ??= new ArrayBuffer(KEEP_BYTES);
  const bytes = own ? new Uint8Array(from.byteLength) : new Uint8Array(kept!, 0, from.byteLength);
  bytes.set(from.subarray(0, gap[0]));
  bytes.set(from.subarray(gap[1]), gap[1]);
  if (own) return { bytes, release() {} };
  inUse = true;
  let released = false;
  return {
    bytes,
    release() {
      if (released) return;
      released = true;
      inUse = false;
    },
  };
}
