import { createHash } from "node:crypto";
import pg from "pg";

/**
 * The server's channel for a channel of a schema: NOTIFY channels are per database, not per
 * schema, so the name holds the schema too and deployments (and tests) sharing a database in
 * schemas of their own do not hear each other. Hashed: a channel name is at most 63 bytes.
 */
export function notificationChannel(schema: string | undefined, channel: string): string {
  const hash = createHash("sha256")
    .update(`sluice-channel\u0000${schema ?? "public"}\u0000${channel}`)
    .digest("hex");
  return `sluice_${hash.slice(0, 40)}`;
}

/** The `application_name` of a schema's listening connection. */
export const listenerApplicationName = (schema: string | undefined): string =>
  `sluice listen ${schema ?? "public"}`.slice(0, 63);

export type NotificationListener = (payload: string) => void;

export interface PostgresNotificationTarget {
  readonly url: string;
  readonly schema?: string | undefined;
}

const reconnectDelayMs = { initial: 100, max: 5_000 };

/**
 * LISTEN on a PostgreSQL server: one connection of its own, outside the pool (a pooled one would
 * stop hearing once given back), made on the first `listen` and made again, with backoff, when
 * it is lost. What is sent while it is being made again is missed: listeners poll as well.
 */
export function postgresNotifications(target: PostgresNotificationTarget) {
  const listeners = new Map<string, Set<NotificationListener>>();
  let client: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  let closed = false;

  const listenTo = (client: pg.Client, channel: string) => client.query(`listen "${channel}"`);

  function connect(): Promise<pg.Client> {
    connecting ??= (async () => {
      const next = new pg.Client({
        connectionString: target.url,
        // Names its schema: an operator (or a test) can tell whose listening connection it is.
        application_name: listenerApplicationName(target.schema),
        keepAlive: true,
      });
      next.on("notification", ({ channel, payload }) => {
        for (const listener of listeners.get(channel) ?? []) {
          try {
            listener(payload ?? "");
          } catch (error) {
            console.error("postgres: a notification listener failed", error);
          }
        }
      });
      next.on("error", () => lost(next));
      next.on("end", () => lost(next));
      try {
        await next.connect();
        for (const channel of listeners.keys()) await listenTo(next, channel);
      } catch (error) {
        void next.end().catch(() => undefined);
        throw error;
      }
      if (closed) {
        void next.end().catch(() => undefined);
        throw new Error("the database was closed");
      }
      failures = 0;
      client = next;
      return next;
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  /** The connection went: listeners stay, and a new one listens for them as soon as it can. */
  function lost(which: pg.Client): void {
    if (client !== which) return;
    client = undefined;
    void which.end().catch(() => undefined);
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (closed || reconnectTimer || listeners.size === 0) return;
    const delay = Math.min(reconnectDelayMs.initial * 2 ** failures, reconnectDelayMs.max);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      connect().catch((error: unknown) => {
        if (closed) return;
        failures += 1;
        console.error(`postgres: listening again failed, retrying: ${(error as Error).message}`);
        scheduleReconnect();
      });
    }, delay);
  }

  return {
    async listen(channel: string, listener: NotificationListener): Promise<() => Promise<void>> {
      if (closed) throw new Error("the database was closed");
      let set = listeners.get(channel);
      const first = !set;
      if (!set) listeners.set(channel, (set = new Set()));
      set.add(listener);
      try {
        // A connection made from now on listens to the channel by itself; one made (or being made)
        // before must be told. Listening twice is no error.
        const current = client ?? (await connect());
        if (first) await listenTo(current, channel);
      } catch (error) {
        set.delete(listener);
        if (set.size === 0) listeners.delete(channel);
        throw error;
      }
      let removed = false;
      return async () => {
        if (removed) return;
        removed = true;
        set.delete(listener);
        if (set.size > 0 || listeners.get(channel) !== set) return;
        listeners.delete(channel);
        await client?.query(`unlisten "${channel}"`).catch(() => undefined);
      };
    },
    async close(): Promise<void> {
      closed = true;
      clearTimeout(reconnectTimer);
      listeners.clear();
      const current = client;
      client = undefined;
      await connecting?.catch(() => undefined);
      await current?.end().catch(() => undefined);
    },
  };
}
