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
import { createHash } from "node:crypto";
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
  /**
   * A guest's text, prepared per session under a name made from its hash (at
   * most GUEST_CAP texts, least recently used closed first). Only where a
   * failure can be retried: a plan whose result type changed under it (0A000,
   * after DDL) fails once, and the next use parses the text again.
   */
  cache?: boolean;
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

/**
 * What each connection's session holds prepared. `known`: names parsed there
 * (forgotten by `forgetPrepared` after DISCARD/DEALLOCATE). `unsure`: names
 * whose step failed (the Parse may have failed, no statement; or what came
 * after it, the statement exists): their next use closes the name first
 * (closing a name that does not exist is no error) and parses it again.
 * `guest`: names given to guest statement texts (Step.cache), at most
 * GUEST_CAP per session; the least recently used is closed to make room.
 */
interface Prepared {
  known: Set<string>;
  unsure: Set<string>;
  guest: Map<string, { name: string; used: number }>;
  clock: number;
}
const sessions = new WeakMap<object, Prepared>();

/** Guest statement texts kept prepared per session (Postgres keeps a parse tree and plans for each). */
export const GUEST_CAP = 32;
/** Longer guest texts are parsed every time: the session's names hold their texts as keys (at most GUEST_CAP x this). */
export const GUEST_TEXT_MAX = 8192;

function preparedOn(connection: object): Prepared {
  let p = sessions.get(connection);
  if (!p) sessions.set(connection, (p = { known: new Set(), unsure: new Set(), guest: new Map(), clock: 0 }));
  return p;
}

/**
 * Whether `err` says a session's prepared statements are not what it was
 * thought to hold: a name gone (26000) or one already there (42P05), after a
 * DEALLOCATE or DISCARD not made here, or through a pooler in transaction mode.
 */
export function lostPrepared(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "26000" || code === "42P05";
}

/** A pg client whose session can run steps: node-postgres's Client over a real or PGlite socket. */
export interface WireClient extends Sql {
  connection: Wire;
  getTypeParser(oid: number, format?: string): (v: string) => unknown;
}

export function isWireClient(s: unknown): s is WireClient {
  return s instanceof pg.Client && typeof (s as unknown as { connection?: Wire }).connection?.execute === "function";
}

/** After DISCARD ALL / DEALLOCATE ALL on a session: its prepared host and guest statements are gone. */
export function forgetPrepared(s: unknown): void {
  const c = (s as { connection?: object }).connection;
  if (c) sessions.delete(c);
}

/** How many host statements `s`'s session holds prepared: a cap for names made per table (vector searches). */
export function preparedCount(s: WireClient): number {
  const p = sessions.get(s.connection);
  if (!p) return 0;
  let n = p.known.size;
  for (const g of p.guest.values()) if (p.known.has(g.name)) n--;
  return n;
}

/** Whether `s`'s session holds the host statement `name` prepared. */
export function isPrepared(s: WireClient, name: string): boolean {
  return sessions.get(s.connection)?.known.has(name) ?? false;
}

/** The name `s`'s session holds guest statement `text` under, if any. */
export function guestStatementName(s: WireClient, text: string): string | undefined {
  const p = sessions.get(s.connection);
  const g = p?.guest.get(text);
  return g && p!.known.has(g.name) ? g.name : undefined;
}

/**
 * A guest text's statement name: its hash, so that a name means one text on
 * every session. A pooler in transaction mode may run a statement on a server
 * session another client prepared: there the name must not stand for another
 * text (a counter per client would name another function's statement).
 */
function guestNameOf(text: string): string {
  return `hangar_g_${createHash("sha256").update(text).digest("hex").slice(0, 32)}`;
}

/**
 * The name for guest statement `text` on session `p`, made when new; a new
 * name past GUEST_CAP takes the place of the least recently used one, whose
 * Close goes first (`closes`), before any step can fail and skip it.
 */
function guestName(p: Prepared, text: string, closes: string[]): string {
  let g = p.guest.get(text);
  if (!g) {
    if (p.guest.size >= GUEST_CAP) {
      let oldest: [string, { name: string; used: number }] | undefined;
      for (const e of p.guest) if (!oldest || e[1].used < oldest[1].used) oldest = e;
      p.guest.delete(oldest![0]);
      p.known.delete(oldest![1].name);
      p.unsure.delete(oldest![1].name);
      closes.push(oldest![1].name);
    }
    p.guest.set(text, (g = { name: guestNameOf(text), used: 0 }));
  }
  g.used = ++p.clock;
  return g.name;
}

class StepsQuery {
  callback?: (err: Error | null) => void;
  private readonly results: StepResult[] = [];
  private current = 0;
  private parsers: ((v: string) => unknown)[] = [];
  private error: StepError | null = null;
  private named: string[] = [];
  private names: (string | undefined)[] = [];
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
    const p = preparedOn(connection);
    const closes: string[] = [];
    const names: (string | undefined)[] = [];
    for (const step of this.steps) names.push(step.cache && step.text.length <= GUEST_TEXT_MAX ? guestName(p, step.text, closes) : step.name);
    this.names = names;
    connection.stream.cork?.();
    try {
      for (const n of closes) connection.close({ type: "S", name: n });
      for (let i = 0; i < this.steps.length; i++) {
        const step = this.steps[i];
        const name = names[i];
        if (name && !p.known.has(name)) {
          if (p.unsure.delete(name)) connection.close({ type: "S", name });
          connection.parse({ name, text: step.text });
          this.named.push(name);
        } else if (!name) connection.parse({ text: step.text });
        connection.bind({ statement: name ?? "", portal: "", values: step.values ?? [], valueMapper: prepareValue });
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
    // Assume statements parse (host text is ours); a failure before a step means it was never parsed (see finish).
    for (const n of this.named) p.known.add(n);
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
      // A guest statement that failed is parsed again on its next use whenever it was made (its plan may have
      // changed result type under it).
      const p = this.wire ? sessions.get(this.wire) : undefined;
      if (p && lostPrepared(err)) {
        // every name is closed and parsed again on its next use
        for (const n of p.known) p.unsure.add(n);
        p.known.clear();
      }
      for (let i = this.current; p && i < this.steps.length; i++) {
        const n = this.names[i];
        if (!n || !(this.named.includes(n) || (i === this.current && this.steps[i].cache))) continue;
        p.known.delete(n);
        if (i === this.current) p.unsure.add(n);
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
