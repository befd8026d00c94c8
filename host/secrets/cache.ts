import type { Db } from "../db/index.ts";
import { loadEnv, SECRETS_CHANNEL } from "./store.ts";

export interface SecretsCacheOptions {
  db: Db;
  key: string;
  /** Entries older than this are reloaded even without a NOTIFY (missed notifications). Default 30 s. */
  ttlMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

interface Entry {
  at: number;
  env: Promise<Record<string, string>>;
  generation: number;
}

/**
 * Decrypted env per function, kept until a set/unset NOTIFY on
 * `hangar_secrets` (or the TTL) says it may be stale; a lost LISTEN
 * session drops everything. Call `start()` once, `close()` at shutdown.
 */
export class SecretsCache {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;
  private unlisten: (() => Promise<void>) | null = null;
  private offReconnect: (() => void) | null = null;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: SecretsCacheOptions) {
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  async start(): Promise<void> {
    if (this.unlisten) return;
    this.unlisten = await this.opts.db.listen(SECRETS_CHANNEL, (scope) => this.invalidate(scope));
    this.offReconnect = this.opts.db.onReconnect(() => this.invalidate(""));
  }

  /** Forget a function's env, or everything for "" (a global secret changed). */
  invalidate(scope: string): void {
    this.generation++;
    if (scope === "") this.entries.clear();
    else this.entries.delete(scope);
  }

  /** The env the function's handlers get: global secrets overlaid by its own. */
  envFor(functionName: string): Promise<Record<string, string>> {
    const hit = this.entries.get(functionName);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.env.then((env) => ({ ...env }));
    const generation = this.generation;
    const env = loadEnv(this.opts.db, this.opts.key, functionName);
    const entry: Entry = { at: this.now(), env, generation };
    this.entries.set(functionName, entry);
    env.then(
      () => {
        // A change that arrived while loading may not be in what we read.
        if (this.generation !== generation && this.entries.get(functionName) === entry) this.entries.delete(functionName);
      },
      () => {
        if (this.entries.get(functionName) === entry) this.entries.delete(functionName);
      },
    );
    return env.then((e) => ({ ...e }));
  }

  async close(): Promise<void> {
    const unlisten = this.unlisten;
    this.unlisten = null;
    this.offReconnect?.();
    this.offReconnect = null;
    this.entries.clear();
    await unlisten?.().catch(() => {});
  }
}
