// The contract between PgliteDb (main thread) and the thread that owns the
// PGlite instance. Postgres wire bytes travel as they are: node-postgres on
// the main thread speaks the protocol and parses the answers, so types,
// errors and notifications are exactly what a real server's would be.

/** What the thread is started with (workerData). */
export interface PgliteThreadData {
  /** Directory to persist into, or "memory://". */
  dataDir: string;
  /** Resolved module URLs: the thread is an eval'd script and resolves nothing itself. */
  pgliteUrl: string;
  vectorUrl: string;
}

export type ToPglite =
  /** Start-up: an optional data-directory dump to load (transferred). */
  | { type: "open"; loadDataDir?: ArrayBuffer }
  /** Frontend messages of one connection, as node-postgres wrote them. */
  | { type: "wire"; id: number; conn: number; bytes: Uint8Array }
  /** A connection went away: roll back what it left open, as a server would. */
  | { type: "end"; id: number; conn: number }
  | { type: "dump"; id: number }
  | { type: "close"; id: number };

export type FromPglite =
  | { type: "ready" }
  | { type: "failed"; message: string }
  /** Backend messages answering one request (wire), or nothing (end, close). */
  | { type: "done"; id: number; bytes?: Uint8Array }
  | { type: "dumped"; id: number; data: ArrayBuffer }
  | { type: "error"; id: number; message: string };
