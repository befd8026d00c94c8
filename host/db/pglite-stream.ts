import { Duplex } from "node:stream";
import type { PgliteHost } from "./pglite-host.ts";

/**
 * What node-postgres takes for a socket: its writes go to the embedded
 * database's thread and the answers come back as the server's bytes. The
 * messages node-postgres writes in one tick (parse, bind, describe, execute,
 * sync) travel together, as they would in one TCP segment.
 */
export class PgliteSocket extends Duplex {
  private readonly conn: number;
  private queued: Buffer[] = [];
  private scheduled = false;
  private ended = false;

  constructor(private readonly host: PgliteHost) {
    super();
    // Its thread died: node-postgres fails the session (an idle pooled one is dropped).
    this.conn = host.connection((err) => this.destroy(err));
  }

  connect(): this {
    process.nextTick(() => this.emit("connect"));
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.queued.push(chunk);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(() => this.flush());
    }
    cb();
  }

  private flush(): void {
    this.scheduled = false;
    if (!this.queued.length) return;
    const bytes = this.queued.length === 1 ? this.queued[0]! : Buffer.concat(this.queued);
    this.queued = [];
    // Transferred to the thread: never a view of a shared (pooled) buffer.
    const own = new Uint8Array(bytes.byteLength);
    own.set(bytes);
    this.host.wire(this.conn, own).then(
      (out) => {
        if (out.byteLength && !this.destroyed) this.push(Buffer.from(out.buffer, out.byteOffset, out.byteLength));
      },
      (err: Error) => this.destroy(err),
    );
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.flush();
    this.release().finally(() => {
      this.push(null);
      cb();
    });
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    void this.release();
    cb(err);
  }

  /** The thread rolls back what this connection left open (once). */
  private release(): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.ended = true;
    return this.host.end(this.conn).catch(() => {});
  }
}
