import type { Db } from "../db/index.ts";
import { coerceError } from "../errors.ts";
import type { Invoker } from "../invoke/types.ts";
import type { Logger } from "../log/logger.ts";
import type { ActiveFunction } from "../registry/types.ts";
import { silentLogger } from "./dispatcher.ts";

export interface NotifyListenerOptions {
  /** How long a (function, channel) lease lasts in the database. Default 10000. */
  leaseMs?: number;
  /** How often leases are renewed and the set of functions re-read. Default 3000. */
  renewMs?: number;
  /** Notifications queued per (function, channel) before new ones are dropped. Default 1000. */
  maxQueued?: number;
}

export interface NotifyListenerDeps {
  db: Db;
  invoker: Invoker;
  functions: () => ActiveFunction[];
  nodeId: string;
  logger?: Logger;
  options?: NotifyListenerOptions;
}

export interface NotifyListener {
  /** Re-read the active functions now: LISTEN/UNLISTEN, take or renew leases. */
  refresh(): Promise<void>;
  /** Stop listening, give up leases, let queued handlers finish. Safe twice. */
  close(): Promise<void>;
}

interface Pair {
  fn: string;
  channel: string;
  /** performance.now() until which this instance holds the lease; 0 when it does not. */
  leaderUntil: number;
  queue: string[];
  running: Promise<void> | null;
}

const DRIFT_MARGIN_MS = 500;

/**
 * Raw `config.listen` channels. Every instance hears every NOTIFY and
 * notifications carry no id, so instances cannot agree per message; instead
 * one instance at a time leases each (function, channel) in
 * `hangar.notify_leases` and only the lease holder invokes. It believes it
 * holds the lease until `sent + leaseMs - margin` by its own clock, measured
 * from before the renewing statement ran, so its belief ends before the
 * database lets anyone take over: a notification is handled by at most one
 * instance. Notifications that arrive while no instance holds the lease (a
 * holder died, its LISTEN session was reconnecting) are not handled: NOTIFY
 * is not durable. Per (function, channel), notifications run in the order received.
 */
export async function startNotifyListener(deps: NotifyListenerDeps): Promise<NotifyListener> {
  const { db, invoker, nodeId } = deps;
  const log = deps.logger ?? silentLogger;
  const leaseMs = deps.options?.leaseMs ?? 10_000;
  const renewMs = deps.options?.renewMs ?? 3_000;
  const maxQueued = deps.options?.maxQueued ?? 1000;

  const channels = new Map<string, () => Promise<void>>();
  const pairs = new Map<string, Pair>();
  const key = (fn: string, channel: string) => `${fn}\u0000${channel}`;
  let closed = false;
  let closing: Promise<void> | null = null;
  let refreshing: Promise<void> | null = null;
  let queued: Promise<void> | null = null;

  function onNotify(channel: string, payload: string): void {
    const now = performance.now();
    for (const p of pairs.values()) {
      if (p.channel !== channel || p.leaderUntil <= now) continue;
      if (p.queue.length >= maxQueued) {
        log.warn("notify queue full; notification dropped", { function: p.fn, channel });
        continue;
      }
      p.queue.push(payload);
      p.running ??= drain(p).finally(() => (p.running = null));
    }
  }

  async function drain(p: Pair): Promise<void> {
    for (let payload = p.queue.shift(); payload !== undefined; payload = p.queue.shift()) {
      try {
        const r = await invoker.invoke({ functionName: p.fn, trigger: "notify", kind: "notify", payload: { channel: p.channel, payload } });
        if (r.error) log.warn("notify handler failed", { function: p.fn, channel: p.channel, error: `${r.error.code}: ${r.error.message}` });
      } catch (err) {
        log.error("notify invoke failed", { function: p.fn, channel: p.channel, err: coerceError(err) });
      }
    }
  }

  const warnedPooled = new Set<string>();

  async function sync(): Promise<void> {
    const wanted = new Map<string, { fn: string; channel: string }>();
    for (const f of deps.functions()) for (const c of f.config.listen) wanted.set(key(f.name, c), { fn: f.name, channel: c });
    // Through a transaction pooler LISTEN silently hears nothing: say so for every function that relies on it.
    if ((db as { listenPooled?: boolean }).listenPooled) {
      for (const w of wanted.values()) {
        if (warnedPooled.has(key(w.fn, w.channel))) continue;
        warnedPooled.add(key(w.fn, w.channel));
        log.error("listen function cannot receive notifications: the database URL goes through a transaction pooler; set HANGAR_LISTEN_URL to a direct connection", { function: w.fn, channel: w.channel });
      }
    }

    const gone = [...pairs.values()].filter((p) => !wanted.has(key(p.fn, p.channel)));
    for (const p of gone) pairs.delete(key(p.fn, p.channel));
    if (gone.length) await releaseLeases(gone);
    for (const [k, w] of wanted) if (!pairs.has(k)) pairs.set(k, { ...w, leaderUntil: 0, queue: [], running: null });

    const needed = new Set([...pairs.values()].map((p) => p.channel));
    for (const [channel, unlisten] of channels) {
      if (needed.has(channel)) continue;
      channels.delete(channel);
      await unlisten().catch(() => {});
    }
    for (const channel of needed) {
      if (channels.has(channel) || closed) continue;
      channels.set(channel, await db.listen(channel, (payload) => onNotify(channel, payload)));
    }

    if (!pairs.size) return;
    const list = [...pairs.values()];
    const sent = performance.now();
    const { rows } = await db.query<{ function_name: string; channel: string }>(
      `insert into hangar.notify_leases as l (function_name, channel, node_id, lease_until)
       select f, c, $3, now() + $4::int8 * interval '1 millisecond' from unnest($1::text[], $2::text[]) as t(f, c)
       on conflict (function_name, channel) do update
          set node_id = excluded.node_id, lease_until = excluded.lease_until
        where l.node_id = excluded.node_id or l.lease_until < now()
       returning l.function_name, l.channel`,
      [list.map((p) => p.fn), list.map((p) => p.channel), nodeId, leaseMs],
    );
    const held = new Set(rows.map((r) => key(r.function_name, r.channel)));
    for (const p of list) p.leaderUntil = held.has(key(p.fn, p.channel)) ? sent + leaseMs - DRIFT_MARGIN_MS : 0;
  }

  async function releaseLeases(list: { fn: string; channel: string }[]): Promise<void> {
    await db.query(
      `delete from hangar.notify_leases l using unnest($1::text[], $2::text[]) as t(f, c)
        where l.function_name = t.f and l.channel = t.c and l.node_id = $3`,
      [list.map((p) => p.fn), list.map((p) => p.channel), nodeId],
    );
  }

  /**
   * Calls coalesce, but a call always gets a sync that starts after it: one
   * joining a sync already under way would not see the functions as they are
   * now, so it queues the next one (which later calls join).
   */
  function refresh(): Promise<void> {
    if (closed) return Promise.resolve();
    if (queued) return queued;
    const start = (): Promise<void> => {
      queued = null;
      if (closed) return Promise.resolve();
      return (refreshing = sync()
        .catch((err) => {
          // A lease held keeps its local deadline, which ends before the database's.
          log.warn("notify listener refresh failed", { err: coerceError(err) });
        })
        .finally(() => (refreshing = null)));
    };
    if (!refreshing) return start();
    return (queued = refreshing.then(start));
  }

  const timer = setInterval(() => void refresh(), renewMs);
  timer.unref();
  const offReconnect = db.onReconnect(() => void refresh());
  await refresh();

  return {
    refresh,
    close() {
      closing ??= (async () => {
        closed = true;
        clearInterval(timer);
        offReconnect();
        await queued;
        await refreshing;
        for (const p of pairs.values()) p.leaderUntil = 0;
        for (const unlisten of channels.values()) await unlisten().catch(() => {});
        channels.clear();
        await Promise.allSettled([...pairs.values()].map((p) => p.running));
        // Hand the channels over now rather than when the leases run out.
        if (pairs.size) await releaseLeases([...pairs.values()]).catch(() => {});
      })();
      return closing;
    },
  };
}
