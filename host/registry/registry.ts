import type { Db } from "../db/index.ts";
import type { Logger } from "../log/logger.ts";
import { RouteTable } from "./routes.ts";
import { loadActive, loadBundle, registryGeneration } from "./store.ts";
import type { ActiveFunction } from "./types.ts";

export interface RegistryOptions {
  /** Poll interval for the generation counter: the fallback when a NOTIFY is missed. */
  pollMs?: number;
  /** Called for each newly active version before it takes traffic (pre-warm). */
  prewarm?: (fn: ActiveFunction, bundle: { code: string; map: string | null }) => Promise<void>;
  logger?: Logger;
}

/**
 * This instance's view of what is active. A NOTIFY on `hangar_registry`
 * wakes it; a poll of the generation counter catches a missed one, so every
 * instance serves a new version within a second of the deploy.
 */
export class Registry {
  private active = new Map<string, ActiveFunction>();
  private routeTable = new RouteTable([]);
  private generation: string | null = null;
  private readonly bundles = new Map<string, Promise<{ code: string; map: string | null }>>();
  private readonly listeners = new Set<(changed: string[]) => void>();
  private refreshing: Promise<void> = Promise.resolve();
  private pending = false;
  private forceNext = false;
  private timer: NodeJS.Timeout | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private offReconnect: (() => void) | null = null;
  private closed = false;

  constructor(private readonly db: Db, private readonly opts: RegistryOptions = {}) {}

  async start(): Promise<void> {
    await this.refresh(true);
    this.unlisten = await this.db.listen("hangar_registry", () => void this.refresh(true));
    this.offReconnect = this.db.onReconnect(() => void this.refresh(true));
    const poll = () => {
      this.timer = setTimeout(async () => {
        await this.refresh(false).catch(() => {});
        if (!this.closed) poll();
      }, this.opts.pollMs ?? 500);
      this.timer.unref();
    };
    poll();
  }

  get(name: string): ActiveFunction | undefined {
    return this.active.get(name);
  }

  /** The function whose `config.routes` serve this host (no port) and path, most specific route first. */
  route(hostname: string, pathname: string): ActiveFunction | undefined {
    return this.routeTable.size ? this.routeTable.match(hostname, pathname) : undefined;
  }

  list(): ActiveFunction[] {
    return [...this.active.values()];
  }

  /** Subscribe to switches; receives the names whose active version changed. */
  onChange(fn: (changed: string[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** A version's bundle, fetched once per instance (versions are immutable). */
  bundle(versionId: string): Promise<{ code: string; map: string | null }> {
    let p = this.bundles.get(versionId);
    if (!p) {
      p = loadBundle(this.db, versionId);
      p.catch(() => this.bundles.delete(versionId));
      this.bundles.set(versionId, p);
    }
    return p;
  }

  /** A version's bundle known already (this instance just stored it): not fetched again. */
  seed(versionId: string, bundle: { code: string; map: string | null }): void {
    if (!this.closed && !this.bundles.has(versionId)) this.bundles.set(versionId, Promise.resolve(bundle));
  }

  /** Reload the active set; `force` skips the generation check. Calls coalesce. */
  refresh(force: boolean): Promise<void> {
    // A forced call joining a queued plain one makes that one forced.
    this.forceNext ||= force;
    if (this.pending) return this.refreshing;
    this.pending = true;
    this.refreshing = this.refreshing.then(async () => {
      this.pending = false;
      const forced = this.forceNext;
      this.forceNext = false;
      if (this.closed) return;
      try {
        await this.reload(forced);
      } catch (err) {
        this.opts.logger?.warn("registry refresh failed", { err });
      }
    });
    return this.refreshing;
  }

  private async reload(force: boolean): Promise<void> {
    const generation = await registryGeneration(this.db);
    if (!force && generation === this.generation) return;
    const fresh = await loadActive(this.db);
    const changed: ActiveFunction[] = [];
    for (const fn of fresh) if (this.active.get(fn.name)?.versionId !== fn.versionId) changed.push(fn);
    const names = new Set(fresh.map((f) => f.name));
    const removed = [...this.active.keys()].filter((n) => !names.has(n));
    // Pre-warm before the switch so the first request after a deploy is warm.
    await Promise.all(
      changed.map(async (fn) => {
        try {
          await this.opts.prewarm?.(fn, await this.bundle(fn.versionId));
        } catch (err) {
          this.opts.logger?.warn("pre-warm failed", { function: fn.name, version: fn.version, err });
        }
      }),
    );
    this.active = new Map(fresh.map((f) => [f.name, f]));
    this.routeTable = new RouteTable(fresh);
    this.generation = generation;
    // Only active versions' bundles stay cached: a redeploy on every save must not grow this forever.
    // Invocations already running hold their bundle; a rollback fetches its version again.
    const live = new Set(fresh.map((f) => f.versionId));
    for (const id of this.bundles.keys()) if (!live.has(id)) this.bundles.delete(id);
    if (changed.length || removed.length) {
      const names = [...changed.map((f) => f.name), ...removed];
      this.opts.logger?.debug("registry switched", { functions: names, generation });
      for (const l of this.listeners) l(names);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.offReconnect?.();
    await this.unlisten?.().catch(() => {});
    await this.refreshing.catch(() => {});
  }
}
