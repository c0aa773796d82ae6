// For tests only: the Redis a suite runs against (scripts/services.sh starts it on this machine),
// and a key prefix per test so suites share one Redis without seeing each other.
import { randomBytes } from "node:crypto";
import { openRedis, redisReachable, type RedisConnection } from "./redis-connection";

export const redisTestUrl = process.env.SLUICE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A reason to skip a Redis suite: only when Redis is unreachable and CI is not "true". */
export async function redisTestSkip(): Promise<string | false> {
  if (process.env.CI === "true") return false;
  return (await redisReachable(redisTestUrl))
    ? false
    : `Redis unreachable at ${redisTestUrl} (bash scripts/services.sh starts it)`;
}

/** A fresh prefix for one test's keys and channels. */
export function testKeyPrefix(): string {
  return `sluice-test:${randomBytes(6).toString("hex")}:`;
}

/** A plain connection for a test to look at Redis from outside (PUBSUB, CLIENT KILL, DEL). */
export function openTestRedis(url = redisTestUrl): Promise<RedisConnection> {
  return openRedis({ url }, "test");
}

/** Deletes every key under a test's prefix. */
export async function deleteTestKeys(redis: RedisConnection, prefix: string): Promise<void> {
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
    if (keys.length > 0) await redis.unlink(keys);
  }
}

/** Resolves once `condition` holds, checking every few milliseconds; rejects after timeoutMs. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
