// Records and a gate-able Db wrapper for log tests (the wrapped Db is real Postgres or PGlite, never a mock).
import type { Db, Sql } from "../../host/db/index.ts";
import { uuid7 } from "../../host/invoke/uuid7.ts";
import type { InvocationRecord } from "../../host/logs/types.ts";

let n = 0;

/** A plausible finished invocation; override what the test looks at. */
export function record(over: Partial<InvocationRecord> = {}): InvocationRecord {
  const startedAt = over.startedAt ?? new Date();
  n++;
  return {
    id: uuid7(startedAt.getTime()),
    requestId: `req-${n}`,
    functionName: "hello",
    versionId: "1",
    trigger: "http",
    status: "ok",
    httpStatus: 200,
    startedAt,
    durationMs: 1.5,
    cpuMs: 0.7,
    memoryBytes: 1024,
    responseBytes: 27,
    streamed: false,
    error: null,
    nodeId: "node-test",
    logs: [],
    ...over,
  };
}

export interface GatedDb extends Db {
  /** Queries issued through this wrapper, in order. */
  readonly texts: string[];
  /** Hold every new transaction until release(). */
  block(): void;
  release(): void;
}

/** A real Db whose transactions can be held back, and which remembers the SQL sent through it. */
export function gated(db: Db): GatedDb {
  const texts: string[] = [];
  let gate: Promise<void> | null = null;
  let open = () => {};
  const wrap = (s: Sql): Sql => ({
    query: (text, values) => {
      texts.push(text);
      return s.query(text, values);
    },
  });
  return Object.assign(Object.create(db) as Db, {
    texts,
    kind: db.kind,
    query: wrap(db).query,
    async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
      while (gate) await gate;
      return db.transaction((tx) => fn(wrap(tx)));
    },
    withClient: <T>(fn: (c: Sql) => Promise<T>) => db.withClient((c) => fn(wrap(c))),
    listen: db.listen.bind(db),
    onReconnect: db.onReconnect.bind(db),
    poolStats: db.poolStats.bind(db),
    close: db.close.bind(db),
    block() {
      gate ??= new Promise<void>((r) => (open = r));
    },
    release() {
      gate = null;
      open();
    },
  });
}
