// Several statements in one round trip, written as extended-protocol
// messages behind a single Sync: outside an explicit transaction they run
// in one implicit transaction (a failure skips the rest and rolls it all
// back), so `set_config(..., true)` in a first step holds for the guest's
// statement after it and ends with it. node-postgres sends one Sync per
// query, so this is a custom query object (the interface pg-cursor uses).
//
// A step that collects rows is executed with a row limit of max + 1: the
// server stops producing rows there (PortalSuspended), so a result larger
// than the cap is never read into host memory.
import pg from "pg";
import type { Sql } from "../../db/index.ts";

/** The node-postgres connection calls this uses (pg's own typings lag behind). */
interface Wire {
  parse(msg: { name?: string; text: string }): void;
  bind(msg: { statement?: string; portal?: string; values?: unknown[]; valueMapper?: (v: unknown) => unknown }): void;
  describe(msg: { type: "P" | "S"; name?: string }): void;
  execute(msg: { portal?: string; rows?: number }): void;
  close(msg: { type: "P" | "S"; name?: string }): void;
  sync(): void;
  sendCopyFail(msg: string): void;
  stream: { cork?(): void; uncork?(): void };
}

interface Field {
  name: string;
  dataTypeID: number;
  format?: string;
}

export interface Step {
  /** Prepared once per session under this name: host text only, never a guest's. */
  name?: string;
  text: string;
  values?: unknown[];
  /** Collect this step's rows, at most `max`; more is reported as `over`, not read. */
  rows?: { max: number };
}

export interface StepResult {
  rows: Record<string, unknown>[];
  fields: Field[];
  command: string | null;
  rowCount: number | null;
  /** The step had more than `rows.max` rows (the rest were never sent). */
  over: boolean;
}

/** An error from a step, with the step's index (steps after it did not run). */
export type StepError = Error & { step?: number; code?: string };

const prepareValue = (pg as unknown as { utils: { prepareValue(v: unknown): unknown } }).utils.prepareValue;

/** Host statement names parsed on each connection (forgotten by `forgetPrepared` after DISCARD/DEALLOCATE). */
const prepared = new WeakMap<object, Set<string>>();
/**
 * Names whose step failed in the query that parsed them: the Parse may have
 * failed (no such statement) or what came after it (the statement exists).
 * Their next use closes the name first (closing a name that does not exist is
 * no error) and parses it again.
 */
const uncertain = new WeakMap<object, Set<string>>();

/** A pg client whose session can run steps: node-postgres's Client over a real or PGlite socket. */
export interface WireClient extends Sql {
  connection: Wire;
  getTypeParser(oid: number, format?: string): (v: string) => unknown;
}

export function isWireClient(s: unknown): s is WireClient {
  return s instanceof pg.Client && typeof (s as unknown as { connection?: Wire }).connection?.execute === "function";
}

/** After DISCARD ALL / DEALLOCATE ALL on a session: its prepared host statements are gone. */
export function forgetPrepared(s: unknown): void {
  const c = (s as { connection?: object }).connection;
  if (c) {
    prepared.delete(c);
    uncertain.delete(c);
  }
}

/** How many host statements `s`'s session holds prepared: a cap for names made per table (vector searches). */
export function preparedCount(s: WireClient): number {
  return prepared.get(s.connection)?.size ?? 0;
}

/** Whether `s`'s session holds the host statement `name` prepared. */
export function isPrepared(s: WireClient, name: string): boolean {
  return prepared.get(s.connection)?.has(name) ?? false;
}

class StepsQuery {
  callback?: (err: Error | null) => void;
  private readonly results: StepResult[] = [];
  private current = 0;
  private parsers: ((v: string) => unknown)[] = [];
  private error: StepError | null = null;
  private named: string[] = [];
  private wire: Wire | null = null;

  constructor(
    private readonly client: WireClient,
    private readonly steps: readonly Step[],
    private readonly done: (err: StepError | null, results: StepResult[]) => void,
  ) {
    for (let i = 0; i < steps.length; i++) this.results.push({ rows: [], fields: [], command: null, rowCount: null, over: false });
    // The client's read timeout wraps `callback`; it is only the error path here.
    this.callback = (err) => {
      if (err) this.finish(err as StepError);
    };
  }

  submit(connection: Wire): void {
    this.wire = connection;
    let known = prepared.get(connection);
    if (!known) prepared.set(connection, (known = new Set()));
    const unsure = uncertain.get(connection);
    connection.stream.cork?.();
    try {
      for (let i = 0; i < this.steps.length; i++) {
        const step = this.steps[i];
        if (step.name && !known.has(step.name)) {
          if (unsure?.delete(step.name)) connection.close({ type: "S", name: step.name });
          connection.parse({ name: step.name, text: step.text });
          this.named.push(step.name);
        } else if (!step.name) connection.parse({ text: step.text });
        connection.bind({ statement: step.name ?? "", portal: "", values: step.values ?? [], valueMapper: prepareValue });
        if (step.rows) connection.describe({ type: "P", name: "" });
        connection.execute({ portal: "", rows: step.rows ? step.rows.max + 1 : 0 });
        // A capped portal last before Sync is closed: inside an explicit transaction it would hold its snapshot until
        // the next statement. (A following Bind replaces the unnamed portal; Sync ends it outside a transaction block.)
        if (step.rows && i === this.steps.length - 1) connection.close({ type: "P", name: "" });
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    // Assume host statements parse (their text is ours); a failure before a step means it was never parsed (see finish).
    for (const n of this.named) known.add(n);
  }

  handleRowDescription(msg: { fields: Field[] }): void {
    const r = this.results[this.current];
    if (!r) return;
    r.fields = msg.fields;
    this.parsers = msg.fields.map((f) => this.client.getTypeParser(f.dataTypeID, f.format || "text"));
  }

  handleDataRow(msg: { fields: (string | null)[] }): void {
    const step = this.steps[this.current];
    if (!step?.rows) return;
    const r = this.results[this.current];
    // The row limit asked for max + 1: the extra row only tells us there were more.
    if (r.rows.length >= step.rows.max) return;
    const row: Record<string, unknown> = {};
    const { fields } = r;
    for (let i = 0; i < msg.fields.length; i++) {
      const raw = msg.fields[i];
      row[fields[i].name] = raw === null ? null : this.parsers[i](raw);
    }
    r.rows.push(row);
  }

  handleCommandComplete(msg: { text: string }): void {
    const r = this.results[this.current++];
    if (!r) return;
    const m = /^([A-Za-z]+)(?: (\d+))?(?: (\d+))?/.exec(msg.text);
    if (m) {
      r.command = m[1];
      r.rowCount = m[3] ? Number(m[3]) : m[2] ? Number(m[2]) : null;
    }
  }

  handlePortalSuspended(): void {
    const r = this.results[this.current++];
    if (r) r.over = true;
  }

  handleEmptyQuery(): void {
    this.current++;
  }

  handleCopyInResponse(connection: Wire): void {
    connection.sendCopyFail("COPY is not available here");
  }

  handleCopyData(): void {}

  handleError(err: StepError): void {
    this.finish(err);
  }

  handleReadyForQuery(): void {
    this.finish(null);
  }

  private finish(err: StepError | null): void {
    if (this.error || this.current < 0) return;
    if (err) {
      this.error = err;
      err.step = this.current;
      // Steps after the failing one were skipped, their Parse included; the failing one's Parse may have failed.
      const known = this.wire ? prepared.get(this.wire) : undefined;
      for (let i = this.current; i < this.steps.length; i++) {
        const n = this.steps[i].name;
        if (!n || !this.named.includes(n)) continue;
        known?.delete(n);
        if (i === this.current && this.wire) {
          const unsure = uncertain.get(this.wire) ?? new Set<string>();
          uncertain.set(this.wire, unsure.add(n));
        }
      }
    }
    const results = this.results;
    this.current = -1;
    this.done(err, results);
    // pg wraps `callback` to clear its read-timeout timer: calling it is how the timer learns the query is over
    // (left alone, each statement would keep a timer for the whole query_timeout)
    this.callback?.(null);
  }
}

/**
 * Run `steps` on `client` in one round trip (one Sync). Resolves with each
 * step's result; rejects with the first error, its `step` set.
 */
export function runSteps(client: WireClient, steps: readonly Step[]): Promise<StepResult[]> {
  return new Promise((resolve, reject) => {
    const q = new StepsQuery(client, steps, (err, results) => (err ? reject(err) : resolve(results)));
    (client as unknown as { query(q: object): unknown }).query(q);
  });
}
