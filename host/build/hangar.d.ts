// Types for code running inside Hangar: the `hangar` module (SPEC §4), handler arguments
// and the `config` export (SPEC §3). Put this file in a function project's tsconfig
// ("files" or "include"), or `/// <reference path=".../hangar.d.ts" />`.
// Web globals (Request, Response, fetch, crypto, ...) come from TypeScript's "DOM" lib.

declare module "hangar" {
  /** Values that cross the sandbox boundary. int8 and numeric columns arrive as strings. */
  export type Value = null | boolean | number | string | Date | Uint8Array | Value[] | { [key: string]: Value };
  export type Row = Record<string, any>;

  /** Tagged template: every `${value}` becomes a bind parameter, never SQL text. */
  export interface SqlTag {
    <T extends Row = Row>(strings: TemplateStringsArray, ...values: unknown[]): Promise<T[]>;
    /** One statement with `$1..$n` placeholders. */
    query<T extends Row = Row>(text: string, params?: unknown[]): Promise<T[]>;
  }
  export interface Sql extends SqlTag {
    /** Runs `fn` in a transaction: commits when it resolves, rolls back when it throws. */
    begin<R>(fn: (tx: SqlTag) => Promise<R>): Promise<R>;
  }
  /** Errors from Postgres carry its SQLSTATE `code`, `message` and `detail`. */
  export interface SqlError extends Error {
    code?: string;
    detail?: string;
  }
  export const sql: Sql;

  /** An embedding: numbers, or the Float32Array/Float64Array an embedding model gave. */
  export type Embedding = number[] | Float32Array | Float64Array;
  export interface VectorItem {
    id: string;
    embedding: Embedding;
    content?: string | null;
    metadata?: Record<string, unknown> | null;
  }
  export interface VectorHit {
    id: string;
    /** Higher is closer. */
    score: number;
    content: string | null;
    metadata: Record<string, unknown> | null;
  }
  export interface VectorSearchOptions {
    /** How many hits, best first. */
    k?: number;
    /** Exact-match filter on metadata keys. */
    filter?: Record<string, unknown>;
    /** hnsw.ef_search for this search, 1..1000 (never below k); default max(200, 2k). Lower is faster, higher recalls more. */
    efSearch?: number;
  }
  export interface VectorUpsertOptions {
    /** Distance of a new collection (default cosine); an existing collection's metric must match. */
    metric?: "cosine" | "l2" | "ip";
  }
  export interface Vector {
    /** Creates the collection on first use with the embedding's dimension. */
    upsert(collection: string, items: VectorItem[], options?: VectorUpsertOptions): Promise<{ count: number }>;
    search(collection: string, embedding: Embedding, opts?: VectorSearchOptions): Promise<VectorHit[]>;
    remove(collection: string, ids: string[]): Promise<{ count: number }>;
  }
  export const vector: Vector;

  /** The function's secrets and vars. */
  export type Env = Record<string, string>;

  export interface Context {
    /** Keeps the invocation alive (within its wall-clock limit) until `promise` settles. */
    waitUntil(promise: Promise<unknown>): void;
    readonly requestId: string;
    /** Verified JWT claims (auth: "jwt"), or null. */
    readonly auth: Record<string, unknown> | null;
  }

  export interface ScheduledEvent {
    /** The schedule that fired, as written in config. */
    cron: string;
    /** The occurrence this run is for, ms since the epoch (not when it started). */
    scheduledTime: number;
  }

  export interface TableEvent<R extends Row = Row> {
    /** Stable id of the stored event; the same across retries. */
    id: string;
    schema: string;
    table: string;
    op: "insert" | "update" | "delete";
    /** Row before the change (update, delete), else null. */
    old: R | null;
    /** Row after the change (insert, update), else null. */
    new: R | null;
    /** 1 on first delivery. */
    attempt: number;
  }

  export interface NotifyEvent {
    channel: string;
    payload: string;
  }

  export type FetchHandler<E = Env> = (request: Request, env: E, ctx: Context) => Response | Promise<Response>;

  /** The canonical Workers-style default export. */
  export interface Handlers<E = Env> {
    fetch?: FetchHandler<E>;
    scheduled?(event: ScheduledEvent, env: E, ctx: Context): void | Promise<void>;
    event?(event: TableEvent, env: E, ctx: Context): void | Promise<void>;
    notify?(event: NotifyEvent, env: E, ctx: Context): void | Promise<void>;
  }

  /** `export const config = { ... } satisfies Config`. */
  export interface Config {
    /** 5 or 6 fields (seconds first), or @yearly, @monthly, @weekly, @daily, @hourly... */
    schedule?: string;
    /** IANA zone for schedule; default "UTC". */
    timezone?: string;
    overlap?: "skip" | "allow";
    catchUp?: "none" | "latest" | "all";
    /** "schema.table:insert,update", "table:delete" (schema public), "table" (all ops). */
    events?: string[];
    listen?: string[];
    delivery?: "at-least-once" | "exactly-once";
    auth?: "public" | "jwt" | "key";
    limits?: { cpuMs?: number; wallMs?: number; memoryMb?: number; subrequests?: number };
    /** Hosts fetch may reach, "*.example.com" for subdomains; default any public address. */
    egress?: string[];
    /** Also serve the fetch handler at these paths or hosts, URL unchanged: "/api/*", "api.example.com/*". */
    routes?: string[];
    role?: string;
  }
}

/** Deno / Supabase Edge style entry point, accepted unchanged. */
declare namespace Deno {
  interface ServeHandlerInfo {
    remoteAddr?: { hostname: string; port: number; transport: "tcp" };
  }
  type ServeHandler = (request: Request, info: ServeHandlerInfo) => Response | Promise<Response>;
  function serve(handler: ServeHandler): void;
  function serve(options: Record<string, unknown>, handler: ServeHandler): void;
  /** The function's secrets and vars (the same values as the handlers' `env`). */
  const env: {
    get(name: string): string | undefined;
    has(name: string): boolean;
    toObject(): Record<string, string>;
  };
  /** Accepted for Deno code; Hangar keeps no event loop alive for a timer anyway. */
  function unrefTimer(id: number): void;
  function refTimer(id: number): void;
}

/** Supabase Edge style: work that may finish after the response (as `ctx.waitUntil`). */
declare const EdgeRuntime: { waitUntil(promise: Promise<unknown>): void };

/** Workers' Cache API: `caches.default` beside `caches.open(name)` (match, put and delete; see the README). */
interface CacheStorage { readonly default: Cache }

// URLPattern (the sandbox has it; TypeScript's DOM lib does not yet).
interface URLPatternInit {
  protocol?: string; username?: string; password?: string; hostname?: string; port?: string;
  pathname?: string; search?: string; hash?: string; baseURL?: string;
}
type URLPatternInput = string | URLPatternInit;
interface URLPatternComponentResult { input: string; groups: Record<string, string | undefined> }
interface URLPatternResult {
  inputs: URLPatternInput[];
  protocol: URLPatternComponentResult; username: URLPatternComponentResult; password: URLPatternComponentResult;
  hostname: URLPatternComponentResult; port: URLPatternComponentResult; pathname: URLPatternComponentResult;
  search: URLPatternComponentResult; hash: URLPatternComponentResult;
}
interface URLPattern {
  test(input?: URLPatternInput, baseURL?: string): boolean;
  exec(input?: URLPatternInput, baseURL?: string): URLPatternResult | null;
  readonly protocol: string; readonly username: string; readonly password: string; readonly hostname: string;
  readonly port: string; readonly pathname: string; readonly search: string; readonly hash: string;
  readonly hasRegExpGroups: boolean;
}
declare var URLPattern: {
  prototype: URLPattern;
  new (input?: URLPatternInput, baseURL?: string, options?: { ignoreCase?: boolean }): URLPattern;
  new (input: URLPatternInput, options?: { ignoreCase?: boolean }): URLPattern;
};
