import {
  deleteTestKeys,
  openTestRedis,
  PrivateRedis,
  privateRedisSkip,
  redisTestSkip,
  redisTestUrl,
  testKeyPrefix,
  waitFor,
} from "@sluice/broker/testing";
import { openDatabase } from "@sluice/database";
import { ErrorCode } from "@sluice/rpc";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { attemptCountersContract } from "./attempt-counters-contract";
import { ThrottleUnavailable, TooManyAttempts } from "./errors";
import { errorOf, testApp } from "./http-test-client";
import { RedisAttemptCounters } from "./redis-attempt-counters";
import {
  defaultSignInLimits,
  MemoryAttemptCounters,
  SignInThrottle,
  type AttemptCounters,
  type SignInLimits,
} from "./sign-in-throttle";

const skip = await redisTestSkip();
const privateSkip = privateRedisSkip();
const quiet = { onError: () => {} };

/** Counters on one key prefix of the test Redis, as N processes of one deployment would have them. */
async function openShared(n: number) {
  const keyPrefix = testKeyPrefix();
  const counters = await Promise.all(
    Array.from({ length: n }, () => RedisAttemptCounters.connect({ url: redisTestUrl, keyPrefix, ...quiet })),
  );
  return {
    keyPrefix,
    counters,
    async close() {
      await Promise.all(counters.map((c) => c.close()));
      const redis = await openTestRedis();
      await deleteTestKeys(redis, keyPrefix);
      await redis.close();
    },
  };
}

attemptCountersContract(
  "MemoryAttemptCounters",
  async () => {
    let at = Date.now();
    return {
      counters: new MemoryAttemptCounters(() => at),
      now: () => at,
      elapse: async (ms) => void (at += ms),
      close: async () => {},
    };
  },
  { slackMs: 0 },
);

attemptCountersContract(
  "RedisAttemptCounters",
  async () => {
    const shared = await openShared(1);
    // Redis keeps the time: the window passes for real. Nothing asserts how long anything took.
    return { counters: shared.counters[0]!, now: Date.now, elapse: (ms) => sleep(ms), close: shared.close };
  },
  { skip, slackMs: 50 },
);

const email = "ben@acme.test";
const subject = { email, clientAddress: "10.0.0.1" };
const limits: SignInLimits = {
  perEmail: { attemptsPerMinute: 6, failuresBeforeLockout: 5, failureWindowSeconds: 900, lockoutSeconds: 900 },
  perAddress: defaultSignInLimits.perAddress,
};

/** Whether `admit` refuses with TooManyAttempts. */
async function refused(throttle: SignInThrottle): Promise<boolean> {
  try {
    await throttle.admit(subject);
    return false;
  } catch (error) {
    if (error instanceof TooManyAttempts) return true;
    throw error;
  }
}

/** Two processes' throttles, one per counters, failing in turn: is the email locked after 5 failures in all? */
async function lockedAfterFiveFailuresInAll(counters: readonly [AttemptCounters, AttemptCounters]) {
  const throttles = counters.map((c) => new SignInThrottle(c, limits, Date.now));
  for (let i = 0; i < limits.perEmail.failuresBeforeLockout; i++) {
    const throttle = throttles[i % 2]!;
    await throttle.admit(subject);
    await throttle.failed(subject);
  }
  return { one: await refused(throttles[0]!), two: await refused(throttles[1]!) };
}

describe("RedisAttemptCounters", { skip }, () => {
  test("counters are keys under the deployment's prefix, hash-tagged, expiring with their window", async () => {
    const shared = await openShared(1);
    const redis = await openTestRedis();
    try {
      await shared.counters[0]!.increment("fail:email:abc", 900_000);
      const keys: string[] = [];
      for await (const batch of redis.scanIterator({ MATCH: `${shared.keyPrefix}*` })) keys.push(...batch.map(String));
      assert.deepEqual(keys, [`${shared.keyPrefix}attempts:{fail:email:abc}`]);
      const left = await redis.pTTL(keys[0]!);
      assert.ok(left > 0 && left <= 900_000, `PTTL ${left}`);
    } finally {
      await redis.close();
      await shared.close();
    }
  });

  test("two processes sharing Redis counters share the limit: 5 failures in all lock the email in both", async () => {
    const shared = await openShared(2);
    try {
      const { one, two } = await lockedAfterFiveFailuresInAll([shared.counters[0]!, shared.counters[1]!]);
      assert.deepEqual({ one, two }, { one: true, two: true });
    } finally {
      await shared.close();
    }
    // In memory, each process counts on its own: neither has seen 5 failures (the N-times problem).
    const apart = await lockedAfterFiveFailuresInAll([new MemoryAttemptCounters(), new MemoryAttemptCounters()]);
    assert.deepEqual(apart, { one: false, two: false });
  });

  test("two processes sharing Redis counters share the rate: the 7th attempt in a minute is refused in both", async () => {
    const shared = await openShared(2);
    try {
      const [a, b] = shared.counters.map((c) => new SignInThrottle(c, limits, Date.now));
      for (let i = 0; i < limits.perEmail.attemptsPerMinute; i++) await [a!, b!][i % 2]!.admit(subject);
      assert.equal(await refused(a!), true);
      assert.equal(await refused(b!), true);
    } finally {
      await shared.close();
    }
  });
});

describe("RedisAttemptCounters while Redis is out of reach", { skip: privateSkip }, () => {
  let redis: PrivateRedis;
  let counters: RedisAttemptCounters;
  before(async () => {
    redis = await PrivateRedis.start({ debugCommand: true });
    counters = await RedisAttemptCounters.connect({ url: redis.url, commandTimeoutMs: 500, ...quiet });
  });
  after(async () => {
    await counters?.close();
    await redis?.kill();
  });

  const unavailable = (error: unknown) => {
    assert.ok(error instanceof ThrottleUnavailable, `ThrottleUnavailable, not ${String(error)}`);
    assert.equal(error.code, ErrorCode.UNAVAILABLE);
    assert.equal(error.retriable, true);
    assert.equal(error.retryAfterSeconds, 2);
    return true;
  };

  test("sign-in is refused, not let through uncounted, and counts again once Redis is back", async () => {
    const throttle = new SignInThrottle(counters, limits, Date.now);
    await throttle.admit(subject);
    await throttle.failed(subject);

    await redis.unreachable();
    await assert.rejects(throttle.admit(subject), unavailable);
    await assert.rejects(throttle.failed(subject), unavailable);
    await assert.rejects(throttle.succeeded(subject), unavailable);

    await redis.reachable();
    await waitFor(
      () =>
        throttle.admit(subject).then(
          () => true,
          () => false,
        ),
      "sign-in admitted again",
      10_000,
    );
    // The count kept through the outage (Redis kept its data): 1 failure before, 4 more lock.
    for (let i = 0; i < 4; i++) await throttle.failed(subject);
    assert.equal(await refused(throttle), true);
  });

  test("a Redis that stalls past commandTimeoutMs refuses sign-in the same way", async () => {
    const admin = await openTestRedis(redis.url);
    try {
      const stalled = admin.sendCommand(["DEBUG", "SLEEP", "1.5"]);
      await assert.rejects(counters.increment("stalled", 60_000), unavailable);
      await stalled;
    } finally {
      admin.destroy();
    }
    await waitFor(
      () =>
        counters.increment("after stall", 60_000).then(
          () => true,
          () => false,
        ),
      "counters answering again",
    );
  });

  test("over HTTP: 503 UNAVAILABLE with Retry-After while Redis is away, and sign-in works again after", async () => {
    const db = await openDatabase({ kind: "pglite" });
    const t = await testApp(db, { attemptCounters: counters });
    const signIn = () =>
      t.app.inject({ method: "POST", url: "/auth/signin", payload: { email: "ana@acme.test", password: "dispatch" } });
    try {
      assert.equal((await signIn()).statusCode, 200);
      await redis.unreachable();
      const refusedReply = await signIn();
      assert.deepEqual(errorOf(refusedReply), {
        status: 503,
        code: "UNAVAILABLE",
        message: "sign-in is unavailable for a moment: try again shortly",
      });
      assert.equal(refusedReply.headers["retry-after"], "2");
      assert.equal(refusedReply.headers["set-cookie"], undefined);
      await redis.reachable();
      await waitFor(async () => (await signIn()).statusCode === 200, "sign-in answering 200 again", 10_000);
    } finally {
      await redis.reachable();
      await t.close();
      await db.close();
    }
  });
});
