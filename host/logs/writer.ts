import type { Db } from "../db/index.ts";
import { coerceError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { insertBatch, isNoPartition } from "./insert.ts";
import { isConnectionFailure } from "../bindings/sql/errors.ts";
import { ensurePartitions, rotateLogs } from "./partitions.ts";
import type { InvocationRecord, InvocationRecorder } from "./types.ts";

export interface LogWriterOptions {
  db: Db;
  logger?: Logger;
  /** Written into each notification; default "unknown". */
  nodeId?: string;
  /** Most records per INSERT; default 500. */
  batchSize?: number;
  /** Longest a record waits in the buffer; default 200 ms. */
  flushMs?: number;
  /** Records held at most; past this, new ones are dropped and counted. Default 10,000. */
  maxBuffer?: number;
  /** At most one "dropping" warning per this many ms; default 10 s. */
  warnEveryMs?: number;
  /**
   * Partition upkeep: when given, rotate once at creation (create today's and
   * the next days' partitions, drop expired ones) and, with `everyMs`, on a
   * timer. Leave `everyMs` out when the cron scheduler runs logRotationJob.
   */
  rotate?: { retentionDays: number; everyMs?: number };
}

export interface LogWriterStats {
  written: number;
  dropped: number;
  buffered: number;
}

export interface LogWriter extends InvocationRecorder {
  /** Write out now (what is buffered at the call). */
  flush(): Promise<void>;
  /** Stop taking records, write out the buffer (up to `timeoutMs`, default 5 s; the rest is dropped). Safe twice. */
  close(opts?: { timeoutMs?: number }): Promise<void>;
  stats(): LogWriterStats;
}

/**
 * The invocation log writer: `record()` only appends to a bounded buffer;
 * batches go to Postgres every `flushMs` or `batchSize` records. When the
 * database falls behind the buffer fills and further records are dropped and
 * counted: requests never wait on their logs.
 */
export function createLogWriter(opts: LogWriterOptions): LogWriter {
  const { db, logger } = opts;
  const batchSize = opts.batchSize ?? 500;
  const flushMs = opts.flushMs ?? 200;
  const maxBuffer = opts.maxBuffer ?? 10_000;
  const warnEveryMs = opts.warnEveryMs ?? 10_000;
  const nodeId = opts.nodeId ?? "unknown";
  let buffer: InvocationRecord[] = [];
  // Taken from the buffer but not written yet: still counts against maxBuffer.
  let inflight = 0;
  let written = 0;
  let dropped = 0;
  let droppedSinceWarn = 0;
  let lastWarn = -Infinity;
  let closed = false;
  let running: Promise<void> | null = null;
  let closing: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;

  const drop = (n: number, reason: string, err?: unknown) => {
    dropped += n;
    droppedSinceWarn += n;
    const now = performance.now();
    if (now - lastWarn < warnEveryMs) return;
    lastWarn = now;
    logger?.warn("invocation log entries dropped", { reason, dropped: droppedSinceWarn, totalDropped: dropped, maxBuffer, ...(err ? { err: coerceError(err) } : {}) });
    droppedSinceWarn = 0;
  };

  const insert = async (batch: InvocationRecord[]) => {
    try {
      await insertBatch(db, nodeId, batch);
    } catch (err) {
      if (!isNoPartition(err)) throw err;
      // A day with no partition yet (first write after midnight before rotation ran, or a skewed clock): create it, retry once.
      await ensurePartitions(db, batch.map((r) => r.startedAt));
      await insertBatch(db, nodeId, batch);
    }
    written += batch.length;
  };

  const write = async (batch: InvocationRecord[]) => {
    try {
      await insert(batch);
    } catch (err) {
      if (batch.length === 1 || isConnectionFailure(err)) throw err;
      // One bad record must not take the others down: row by row, dropping (and counting) only what fails.
      for (const r of batch) await insert([r]).catch((e) => drop(1, "record refused", e));
    }
  };

  // One batch at a time; keeps going while a full batch is waiting.
  const drain = async () => {
    while (buffer.length) {
      const batch = buffer.length <= batchSize ? buffer : buffer.slice(0, batchSize);
      buffer = buffer.length <= batchSize ? [] : buffer.slice(batchSize);
      inflight = batch.length;
      try {
        await write(batch);
      } catch (err) {
        drop(batch.length, "write failed", err);
      } finally {
        inflight = 0;
      }
      if (!closed && buffer.length < batchSize) break;
    }
  };

  const kick = () => {
    if (running || !buffer.length) return running ?? Promise.resolve();
    running = drain().finally(() => {
      running = null;
      if (buffer.length >= batchSize && !closed) void kick();
    });
    return running;
  };

  timer = setInterval(() => void kick(), flushMs);
  timer.unref();
  let rotateTimer: NodeJS.Timeout | null = null;
  let rotating: Promise<void> | null = null;
  if (opts.rotate) {
    const { retentionDays, everyMs } = opts.rotate;
    const rotate = () => {
      rotating ??= rotateLogs(db, { retentionDays })
        .then((r) => {
          if (r.created.length || r.dropped.length) logger?.info("invocation log partitions rotated", { created: r.created, dropped: r.dropped });
        })
        .catch((err) => logger?.warn("invocation log rotation failed", { err: coerceError(err) }))
        .finally(() => (rotating = null));
    };
    rotate();
    if (everyMs) {
      rotateTimer = setInterval(rotate, everyMs);
      rotateTimer.unref();
    }
  }

  return {
    record(rec) {
      try {
        if (closed) return drop(1, "writer closed");
        if (buffer.length + inflight >= maxBuffer) return drop(1, "buffer full");
        buffer.push(rec);
        if (buffer.length >= batchSize) void kick();
      } catch {
        // Never let logging break an invocation.
      }
    },
    async flush() {
      const target = written + dropped + buffer.length;
      while (buffer.length && written + dropped < target) await (running ?? kick());
      if (running) await running;
    },
    close({ timeoutMs = 5_000 } = {}) {
      closing ??= (async () => {
        closed = true;
        if (timer) clearInterval(timer);
        if (rotateTimer) clearInterval(rotateTimer);
        timer = rotateTimer = null;
        await rotating;
        let t: NodeJS.Timeout | undefined;
        const deadline = new Promise<void>((r) => (t = setTimeout(r, timeoutMs)));
        try {
          await Promise.race([
            (async () => {
              if (running) await running;
              await kick();
            })(),
            deadline,
          ]);
        } finally {
          clearTimeout(t);
        }
        if (buffer.length) {
          drop(buffer.length, "close timed out");
          buffer = [];
        }
      })();
      return closing;
    },
    stats: () => ({ written, dropped, buffered: buffer.length + inflight }),
  };
}
