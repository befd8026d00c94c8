import pg from "pg";
import type { NotificationHandler } from "./types.ts";
import { withTimeout } from "../util/with-timeout.ts";

export interface ListenerOptions {
  url: string;
  applicationName: string;
  /** How often the session proves it is alive and still listening. */
  heartbeatMs?: number;
  /** Connect (and each heartbeat) must answer within this. Default 10000. */
  connectTimeoutMs?: number;
  /** Told why the session was lost, and loudly when LISTEN cannot work on this URL (a transaction pooler). */
  onWarn?: (message: string) => void;
}

/** Session state does not survive between statements: a transaction pooler (pgbouncer pool_mode=transaction). */
export const POOLER_MESSAGE =
  "LISTEN cannot work on this connection: session state does not survive between statements, so DATABASE_URL goes through a transaction pooler (e.g. pgbouncer pool_mode=transaction). Set HANGAR_LISTEN_URL to a direct (or session-mode) URL; until then `listen` functions receive nothing and table events and secrets fall back to polling and TTLs";

/**
 * LISTEN on its own session (never a pooled one). A heartbeat checks
 * `pg_listening_channels()`; a lost session is re-established with back-off,
 * re-LISTENs, and tells `onReconnect` subscribers to catch up by query,
 * because notifications sent while it was gone are lost for good.
 */
export class Listener {
  private client: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private readonly handlers = new Map<string, Set<NotificationHandler>>();
  private readonly reconnectHandlers = new Set<() => void>();
  private heartbeat: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;
  private attempts = 0;
  private closed = false;
  private lostInARow = 0;
  /** True when the probe found a transaction pooler between us and Postgres. */
  pooled = false;

  constructor(private readonly opts: ListenerOptions) {}

  async listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>> {
    let set = this.handlers.get(channel);
    const fresh = !set;
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
    try {
      await this.ensure();
      if (fresh && this.client) await this.client.query(`listen ${pg.escapeIdentifier(channel)}`);
    } catch {
      // The database is away: the subscription stands, and the reconnect
      // (with back-off) LISTENs on every channel and tells subscribers to catch up.
      if (this.client) this.lost(this.client);
      else this.scheduleReconnect();
    }
    return async () => {
      set.delete(handler);
      if (set.size === 0 && this.handlers.get(channel) === set) {
        this.handlers.delete(channel);
        await this.client?.query(`unlisten ${pg.escapeIdentifier(channel)}`).catch(() => {});
      }
    };
  }

  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  private ensure(): Promise<void> {
    if (this.client) return Promise.resolve();
    this.connecting ??= this.connect().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async connect(): Promise<void> {
    const timeout = this.opts.connectTimeoutMs ?? 10_000;
    const client = new pg.Client({
      connectionString: this.opts.url,
      application_name: this.opts.applicationName,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: timeout,
      query_timeout: timeout,
    });
    client.on("notification", (msg) => {
      for (const h of this.handlers.get(msg.channel) ?? []) {
        try {
          h(msg.payload ?? "");
        } catch {
          // a subscriber's failure must not stop the others
        }
      }
    });
    client.on("error", (err) => {
      if (this.client === client) this.opts.onWarn?.(`LISTEN session lost (${err.message}); reconnecting`);
      this.lost(client);
    });
    client.on("end", () => this.lost(client));
    try {
      await client.connect();
      await this.probe(client);
      for (const channel of this.handlers.keys()) await client.query(`listen ${pg.escapeIdentifier(channel)}`);
    } catch (err) {
      client.on("error", () => {});
      void client.end().catch(() => {});
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.attempts = 0;
    const every = this.opts.heartbeatMs ?? 5_000;
    this.heartbeat = setInterval(() => void this.beat(client), every);
    this.heartbeat.unref();
  }

  /** A session-level SET, then SHOW in a second statement: a transaction pooler loses it. */
  private async probe(client: pg.Client): Promise<void> {
    const token = Math.random().toString(36).slice(2, 10);
    await client.query(`set hangar.listen_probe = '${token}'`);
    const { rows } = await client.query<{ v: string | null }>("select current_setting('hangar.listen_probe', true) as v");
    const pooled = rows[0]?.v !== token;
    if (pooled && !this.pooled) this.opts.onWarn?.(POOLER_MESSAGE);
    this.pooled = pooled;
  }

  private async beat(client: pg.Client): Promise<void> {
    try {
      const { rows } = await withTimeout(client.query<{ c: string }>("select pg_listening_channels() as c"), this.opts.connectTimeoutMs ?? 5_000);
      const listening = new Set(rows.map((r) => r.c));
      for (const channel of this.handlers.keys()) if (!listening.has(channel)) throw new Error(`not listening on ${channel}`);
      this.lostInARow = 0;
    } catch (err) {
      if (++this.lostInARow === 3 && !this.pooled) this.opts.onWarn?.(`${POOLER_MESSAGE} (the LISTEN session lost its channels 3 times in a row: ${(err as Error).message})`);
      else this.opts.onWarn?.(`LISTEN session lost (${(err as Error).message}); reconnecting`);
      this.lost(client);
    }
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = null;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    client.removeAllListeners("notification");
    client.on("error", () => {});
    void client.end().catch(() => {});
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retry) return;
    const delay = Math.min(5_000, 100 * 2 ** this.attempts++) * (0.5 + Math.random() / 2);
    this.retry = setTimeout(() => {
      this.retry = null;
      this.ensure().then(
        () => {
          for (const h of this.reconnectHandlers) h();
        },
        () => this.scheduleReconnect(),
      );
    }, delay);
    this.retry.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.retry) clearTimeout(this.retry);
    await this.connecting?.catch(() => {});
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }
}
