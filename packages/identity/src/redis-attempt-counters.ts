// Sign-in's attempt counters in Redis, for the scale-out shape: every process serving `/auth` (auth
// roles, source gateways) counts in one place, so N processes allow the attempts one would.
//
// It lives here, in identity, beside the interface it implements, and takes its connection from
// @sluice/broker (openRedis: node-redis, decision 0010, with the broker's timeouts, reconnects and
// failure mapping). identity -> broker is the direction that keeps the broker a package of plain
// engines: it knows nothing of sign-in, and the gateways that use it do not pull in identity's
// HTTP server and argon2. It is its own entry point (`@sluice/identity/redis`) so that what only
// needs identity's types or the embedded shape never loads a Redis client.
import {
  openRedis,
  redisFailure,
  RedisScript,
  RedisUnavailableError,
  type RedisConnection,
  type RedisConnectionOptions,
} from "@sluice/broker";
import { ThrottleUnavailable } from "./errors";
import type { AttemptCount, AttemptCounters } from "./sign-in-throttle";

export interface RedisAttemptCountersOptions extends RedisConnectionOptions {
  /** The Retry-After of a sign-in refused while Redis is out of reach (seconds); 2 by default. */
  readonly unavailableRetryAfterSeconds?: number;
  /** This process's clock: a counter's resetAt is now + what Redis says is left of it. */
  readonly now?: () => number;
}

// One key per counter: INCR, and an expiry of the window set when the counter is new (or, should a
// key have lost it, set again), read back in the same call. Atomic: two processes incrementing at
// once get consecutive counts, and no counter lives without an expiry.
/** KEYS[1] the counter, ARGV[1] the window (ms). Answers { count, ms left }. */
const INCREMENT = new RedisScript(`
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  left = tonumber(ARGV[1])
  redis.call('PEXPIRE', KEYS[1], left)
end
return { count, left }`);

/** KEYS[1] the counter. Answers {} when absent, else { count, ms left }. */
const PEEK = new RedisScript(`
local count = redis.call('GET', KEYS[1])
if not count then return {} end
return { tonumber(count), redis.call('PTTL', KEYS[1]) }`);

/**
 * AttemptCounters in Redis. Keys are `<REDIS_KEY_PREFIX>attempts:{<counter>}` (hash-tagged, so a
 * cluster keeps each counter's script on one slot) and vanish with their window.
 *
 * While Redis is out of reach (not connected, or no reply within commandTimeoutMs) every operation
 * throws ThrottleUnavailable: sign-in, sign-up and the other password checks answer 503 with
 * Retry-After rather than run uncounted, and work again once the connection is back (it reconnects
 * on its own). An error reply from Redis (a bug) is passed on as it is: a 500.
 */
export class RedisAttemptCounters implements AttemptCounters {
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #retryAfterSeconds: number;
  readonly #now: () => number;
  #closed = false;

  /** Counters on a connection opened with `openRedis`; `close()` closes it. */
  constructor(redis: RedisConnection, options: Omit<RedisAttemptCountersOptions, "url" | "commandTimeoutMs"> = {}) {
    const retryAfter = options.unavailableRetryAfterSeconds ?? 2;
    if (!(Number.isSafeInteger(retryAfter) && retryAfter > 0)) {
      throw new RangeError(`unavailableRetryAfterSeconds must be a positive integer, not ${retryAfter}`);
    }
    this.#redis = redis;
    this.#prefix = options.keyPrefix ?? "sluice:";
    this.#retryAfterSeconds = retryAfter;
    this.#now = options.now ?? Date.now;
  }

  /** Opens its connection (openRedis: waits for it, at most commandTimeoutMs, or throws RedisUnavailableError). */
  static async connect(options: RedisAttemptCountersOptions = {}): Promise<RedisAttemptCounters> {
    const onError = options.onError ?? ((error: unknown) => console.error(error));
    const redis = await openRedis({ ...options, onError }, "attempt-counters");
    return new RedisAttemptCounters(redis, options);
  }

  async increment(key: string, windowMs: number): Promise<AttemptCount> {
    if (!(Number.isSafeInteger(windowMs) && windowMs > 0)) {
      throw new RangeError(`windowMs must be a positive integer, not ${windowMs}`);
    }
    const [count, left] = (await this.#run("increment", () =>
      INCREMENT.run(this.#redis, [this.#key(key)], [String(windowMs)]),
    )) as [number, number];
    return { count, resetAt: this.#now() + left };
  }

  async peek(key: string): Promise<AttemptCount | undefined> {
    const reply = (await this.#run("peek", () => PEEK.run(this.#redis, [this.#key(key)], []))) as number[];
    // Gone between GET and PTTL cannot happen inside a script; a key without expiry (-1) is not ours.
    if (reply.length === 0 || reply[1]! < 0) return undefined;
    return { count: reply[0]!, resetAt: this.#now() + reply[1]! };
  }

  async delete(key: string): Promise<void> {
    await this.#run("delete", () => this.#redis.del(this.#key(key)));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#redis.close().catch(() => {});
  }

  #key(key: string): string {
    return `${this.#prefix}attempts:{${key}}`;
  }

  async #run<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      const failure = redisFailure(`attempt counter ${what}`, error);
      if (failure instanceof RedisUnavailableError) {
        throw new ThrottleUnavailable(this.#retryAfterSeconds, { cause: failure });
      }
      throw failure;
    }
  }
}
