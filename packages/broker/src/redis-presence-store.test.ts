import type { PresenceMember } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ana, ben, presenceStoreContract } from "./presence-store-contract";
import type { RedisConnection } from "./redis-connection";
import { RedisPresenceStore, type RedisPresenceStoreOptions } from "./redis-presence-store";
import { deleteTestKeys, openTestRedis, redisTestSkip, redisTestUrl, testKeyPrefix, waitFor } from "./testing";

const skip = await redisTestSkip();
const quiet = { onError: () => {} };

/** Two nodes' stores on one key prefix of the test Redis; the keys go with them. */
async function openNodes(one: RedisPresenceStoreOptions = {}, two: RedisPresenceStoreOptions = {}) {
  const keyPrefix = testKeyPrefix();
  const settings = { url: redisTestUrl, keyPrefix, ...quiet };
  const nodes = [
    await RedisPresenceStore.connect({ ...settings, ...one }),
    await RedisPresenceStore.connect({ ...settings, ...two }),
  ] as const;
  return {
    keyPrefix,
    one: nodes[0],
    two: nodes[1],
    async close() {
      await Promise.all(nodes.map((node) => node.close()));
      const redis = await openTestRedis();
      await deleteTestKeys(redis, keyPrefix);
      await redis.close();
    },
  };
}

presenceStoreContract("RedisPresenceStore", () => openNodes(), { skip });

describe("RedisPresenceStore", { skip }, () => {
  let redis: RedisConnection;
  before(async () => {
    redis = await openTestRedis();
  });
  after(async () => {
    await redis.close();
  });

  test("the entries of a node that died without cleaning up expire; a live node's do not", async () => {
    // Short entry TTLs, refreshed often by the live node; the dead one stops refreshing.
    const short = { entryTtlMs: 2000, refreshIntervalMs: 100 };
    const expired: Array<[string, string, number]> = [];
    const onExpired = (channel: string, member: PresenceMember) =>
      expired.push([channel, member.userId, member.connections]);
    const { one: live, two: dying, close } = await openNodes({ ...short, onExpired }, { ...short, onExpired });
    try {
      assert.equal((await live.add("c", ben("live-tab"))).changed, true);
      assert.equal((await dying.add("c", ana("dying-tab"))).changed, true);
      await dying.close(); // no remove: as if the process had been killed
      // Ben's entry is older than Ana's: had it not been refreshed, it would have gone first.
      await waitFor(
        async () => (await live.members("c")).every((m) => m.userId !== "ana"),
        "the dead node's entry to expire",
      );
      assert.deepEqual(
        (await live.members("c")).map((m) => [m.userId, m.connections]),
        [["ben", 1]],
      );
      assert.deepEqual(expired, [["c", "ana", 0]], "told once, by the live node, that Ana left");
      assert.equal((await live.add("c", ana("new-tab"))).changed, true, "Ana joins again, from a live node");
    } finally {
      await close();
    }
  });

  test("a node puts its entries back when Redis lost them", async () => {
    const { one, two, keyPrefix, close } = await openNodes();
    try {
      await one.add("c", ana("1"));
      await one.add("c", ana("2"));
      const keys = ["connections", "expiries", "counts", "names"].map((k) => `${keyPrefix}presence:{c}:${k}`);
      await redis.del(keys);
      assert.deepEqual(await two.members("c"), []);
      await one.refresh();
      assert.deepEqual(
        (await two.members("c")).map((m) => [m.userId, m.displayName, m.connections]),
        [["ana", "Ana", 2]],
      );
    } finally {
      await close();
    }
  });

  test("a channel's keys expire with its entries", async () => {
    const { one, keyPrefix, close } = await openNodes({ entryTtlMs: 5000 });
    try {
      await one.add("c", ana("1"));
      const ttl = Number(await redis.pTTL(`${keyPrefix}presence:{c}:connections`));
      assert.ok(ttl > 0 && ttl <= 5000, `pttl ${ttl}`);
    } finally {
      await close();
    }
  });

  test("bad input gives clear typed errors", async () => {
    const { one, close } = await openNodes();
    try {
      await assert.rejects(one.add("", ana("1")), TypeError);
      await assert.rejects(one.add("c", ana("")), TypeError);
      await assert.rejects(RedisPresenceStore.connect({ entryTtlMs: -1 }), RangeError);
      await assert.rejects(RedisPresenceStore.connect({ entryTtlMs: 100, refreshIntervalMs: 100 }), RangeError);
    } finally {
      await close();
    }
  });
});
