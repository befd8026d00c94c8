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

/** A copy of `from`, in the kept buffer when it is free. */
export function frozenCopy(from: Uint8Array): FrozenCopy {
  if (inUse || from.byteLength > KEEP_BYTES) return { bytes: from.slice(), release() {} };
  kept ??= new ArrayBuffer(KEEP_BYTES);
  inUse = true;
  const bytes = new Uint8Array(kept, 0, from.byteLength);
  bytes.set(from);
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
