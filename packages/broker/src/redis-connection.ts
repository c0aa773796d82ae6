// The one file that knows how the broker's Redis connections are opened (node-redis, chosen in
// docs/decisions/0010-redis-client.md) and how their failures are told to callers.
import { createClient, ErrorReply, RESP_TYPES } from "@redis/client";

export interface RedisConnectionOptions {
  /** redis://host:port[/db]; 127.0.0.1:6379 when absent. */
  readonly url?: string;
  /** Prepended to every key and pub/sub channel, so several deployments or tests share one Redis. */
  readonly keyPrefix?: string;
  /**
   * A command without a reply after this long rejects, even when already sent: a stalled Redis
   * fails publishes instead of hanging them. The first connection waits this long too.
   */
  readonly commandTimeoutMs?: number;
  /** Told about connection errors and reconnects that no caller is waiting on. */
  readonly onError?: (error: unknown) => void;
}

/** Redis could not be reached, or did not answer in time: nothing was (knowingly) done. */
export class RedisUnavailableError extends Error {
  override readonly name = "RedisUnavailableError";
  constructor(what: string, cause: unknown) {
    super(`Redis unavailable: ${what}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/** A connected client whose replies keep bulk strings as Buffers (publications are binary). */
export type RedisConnection = ReturnType<typeof bufferClient>;

function bufferClient(url: string, commandTimeoutMs: number, name: string) {
  return createClient({
    url,
    name,
    // While reconnecting, commands reject at once (ClientOfflineError) instead of queueing
    // unboundedly; a publish then fails with a clear error and the caller decides.
    disableOfflineQueue: true,
    commandOptions: { timeout: commandTimeoutMs, rejectInFlight: true },
    socket: {
      connectTimeout: commandTimeoutMs,
      // Backoff with jitter, capped at 2 s: many edges losing one Redis do not return in step.
      reconnectStrategy: (retries) => Math.min(50 * 2 ** Math.min(retries, 6), 2000) * (0.5 + Math.random() / 2),
    },
  }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
}

/**
 * Opens a connection and waits until it is ready, at most commandTimeoutMs; the client then
 * reconnects on its own (a subscriber resubscribes its channels) for as long as it is open.
 */
export async function openRedis(options: RedisConnectionOptions, role: string): Promise<RedisConnection> {
  const url = options.url ?? DEFAULT_REDIS_URL;
  const timeoutMs = options.commandTimeoutMs ?? 5000;
  // CLIENT LIST shows who holds a connection: the prefix (deployment) and the role.
  const name = `${options.keyPrefix ?? "sluice:"}${role}`.replace(/\s+/g, "-");
  const client = bufferClient(url, timeoutMs, name);
  client.on("error", (error: unknown) => options.onError?.(new RedisUnavailableError(`${role} connection`, error)));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no connection to ${url} within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return client;
  } catch (error) {
    client.destroy();
    throw new RedisUnavailableError(`connecting ${role}`, error);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether Redis answers PING within timeoutMs; never throws. */
export async function redisReachable(url = DEFAULT_REDIS_URL, timeoutMs = 2000): Promise<boolean> {
  try {
    const client = await openRedis({ url, commandTimeoutMs: timeoutMs }, "probe");
    try {
      await client.ping();
      return true;
    } finally {
      client.destroy();
    }
  } catch {
    return false;
  }
}

/**
 * What a failed command means to a caller: an error reply from Redis (a script bug, a key of the
 * wrong type) is passed on as it is; anything else means Redis was out of reach.
 */
export function redisFailure(what: string, error: unknown): Error {
  if (error instanceof ErrorReply) return error;
  return new RedisUnavailableError(what, error);
}
