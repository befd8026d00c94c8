import type { Db } from "../db/index.ts";
import { decryptSecret } from "./crypto.ts";
import { SECRETS_CHANNEL } from "./store.ts";

export interface SecretsCacheOptions {
  db: Db;
  key: string;
  /** The snapshot is reloaded after this even without a NOTIFY (missed notifications). Default 30 s. */
  ttlMs?: number;
  /** How long an invocation waits for a reload before it is served the previous snapshot. Default 1000. */
  staleAfterMs?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** A reload failed and the previous snapshot is being served. */
  onStale?: (err: Error) => void;
}

/** scope ("" for globals) -> name -> value */
type Snapshot = Map<string, Map<string, string>>;

/**
 * Every secret, decrypted, held as one snapshot: loaded at start, reloaded
 * when a set/unset NOTIFY on `hangar_secrets` (a lost LISTEN session, or the
 * TTL) says it may be stale. Stale-while-unavailable: when a reload fails
 * (the database is down) or is slow (its only session is busy, as PGlite's
 * is under an exactly-once event), invocations get the last snapshot, so
 * a function that needs no SQL keeps answering through a database outage.
 */
export class SecretsCache {
  private snapshot: Snapshot | null = null;
  private loadedAt = 0;
  private stale = true;
  private generation = 0;
  private loading: Promise<Snapshot> | null = null;
  /** Functions asked for since the snapshot was loaded: a function's first ask reads the database. */
  private readonly asked = new Set<string>();
  /** Each function's env from the current snapshot, built once: handlers get the same object each time, as on Workers. */
  private envs = new Map<string, Readonly<Record<string, string>>>();
  private unlisten: (() => Promise<void>) | null = null;
  private offReconnect: (() => void) | null = null;
  private readonly ttlMs: number;
  private readonly staleAfterMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: SecretsCacheOptions) {
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.staleAfterMs = opts.staleAfterMs ?? 1_000;
    this.now = opts.now ?? Date.now;
  }

  async start(): Promise<void> {
    if (this.unlisten) return;
    this.unlisten = await this.opts.db.listen(SECRETS_CHANNEL, (scope) => this.invalidate(scope));
    this.offReconnect = this.opts.db.onReconnect(() => this.invalidate(""));
    await this.reload().catch((err) => this.opts.onStale?.(err as Error));
  }

  /** The snapshot may be out of date (a secret of `scope` changed, "" for globals). */
  invalidate(_scope: string): void {
    this.generation++;
    this.stale = true;
  }

  /** The env the function's handlers get: global secrets overlaid by its own. */
  async envFor(functionName: string): Promise<Readonly<Record<string, string>>> {
    const fresh = this.snapshot && !this.stale && this.now() - this.loadedAt < this.ttlMs && this.asked.has(functionName);
    this.asked.add(functionName);
    if (fresh) return this.envOf(this.snapshot!, functionName);
    const reload = this.reload();
    const previous = this.snapshot;
    if (!previous) return this.envOf(await reload, functionName);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Snapshot>((resolve) => {
      timer = setTimeout(() => resolve(previous), this.staleAfterMs);
      timer.unref?.();
    });
    try {
      return this.envOf(await Promise.race([reload, late]), functionName);
    } catch (err) {
      this.opts.onStale?.(err as Error);
      return this.envOf(previous, functionName);
    } finally {
      clearTimeout(timer);
    }
  }

  /** One load at a time; a change announced while loading leaves the result marked stale. */
  private reload(): Promise<Snapshot> {
    if (this.loading) return this.loading;
    const generation = this.generation;
    const at = this.now();
    const asked = new Set(this.asked);
    const p = loadAll(this.opts.db, this.opts.key).then((snap) => {
      this.snapshot = snap;
      this.envs = new Map();
      this.asked.clear();
      for (const f of asked) this.asked.add(f);
      this.loadedAt = at;
      this.stale = this.generation !== generation;
      return snap;
    });
    this.loading = p;
    void p.then(
      () => (this.loading = null),
      () => (this.loading = null),
    );
    return p;
  }

  /** `functionName`'s env from `snap`, built once while `snap` is the current snapshot. */
  private envOf(snap: Snapshot, functionName: string): Readonly<Record<string, string>> {
    if (snap !== this.snapshot) return envOf(snap, functionName);
    let env = this.envs.get(functionName);
    if (!env) this.envs.set(functionName, (env = envOf(snap, functionName)));
    return env;
  }

  async close(): Promise<void> {
    const unlisten = this.unlisten;
    this.unlisten = null;
    this.offReconnect?.();
    this.offReconnect = null;
    this.snapshot = null;
    this.envs = new Map();
    await this.loading?.catch(() => {});
    await unlisten?.().catch(() => {});
  }
}

function envOf(snap: Snapshot, functionName: string): Readonly<Record<string, string>> {
  return Object.freeze({ ...Object.fromEntries(snap.get("") ?? []), ...Object.fromEntries(snap.get(functionName) ?? []) });
}

async function loadAll(db: Db, key: string): Promise<Snapshot> {
  const { rows } = await db.query<{ scope: string; name: string; ciphertext: Uint8Array }>("select scope, name, ciphertext from hangar.secrets");
  const snap: Snapshot = new Map();
  for (const r of rows) {
    let m = snap.get(r.scope);
    if (!m) snap.set(r.scope, (m = new Map()));
    m.set(r.name, decryptSecret(key, r.scope, r.name, r.ciphertext));
  }
  return snap;
}
