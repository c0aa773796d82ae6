import { create, toBinary } from "@bufbuild/protobuf";
import { PublicationSchema, StreamPositionSchema } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { brokerContract, publication, published, Recorder } from "./broker-contract";
import { RedisBroker, type RedisBrokerOptions } from "./redis-broker";
import { RedisUnavailableError, type RedisConnection } from "./redis-connection";
import {
  deleteTestKeys,
  openTestRedis,
  PrivateRedis,
  privateRedisSkip,
  redisTestSkip,
  redisTestUrl,
  testKeyPrefix,
  waitFor,
} from "./testing";

const skip = await redisTestSkip();
const errors: unknown[] = [];
const quiet = { onError: (error: unknown) => errors.push(error) };

/** Two edges on one key prefix of the test Redis; the keys go with them. */
async function openEdges(options: RedisBrokerOptions = {}) {
  const keyPrefix = testKeyPrefix();
  const settings = { url: redisTestUrl, keyPrefix, ...quiet, ...options };
  const publisher = await RedisBroker.connect(settings);
  const edge = await RedisBroker.connect(settings);
  return {
    keyPrefix,
    publisher,
    edge,
    async close() {
      await Promise.all([publisher.close(), edge.close()]);
      const redis = await openTestRedis();
      await deleteTestKeys(redis, keyPrefix);
      await redis.close();
    },
  };
}

brokerContract("RedisBroker", ({ historySize }) => openEdges({ historySize }), { skip });

describe("RedisBroker", { skip }, () => {
  let redis: RedisConnection;
  before(async () => {
    redis = await openTestRedis();
  });
  after(async () => {
    await redis.close();
  });

  const numsub = async (channel: string) => {
    const reply = (await redis.sendCommand(["PUBSUB", "NUMSUB", channel])) as [Buffer, number];
    return Number(reply[1]);
  };

  test("an edge subscribes in Redis only to its listeners' channels, once per channel", async () => {
    const { publisher, edge, keyPrefix, close } = await openEdges();
    try {
      const topic = (channel: string) => `${keyPrefix}broker:${channel}`;
      const first = new Recorder();
      const second = new Recorder();
      await edge.subscribe("o/a", first);
      await edge.subscribe("o/a", second);
      assert.equal(await numsub(topic("o/a")), 1, "two listeners, one Redis subscription");
      assert.equal(await numsub(topic("o/b")), 0);
      assert.deepEqual([publisher.channelCount, edge.channelCount], [0, 1], "the publisher listens to nothing");
      await edge.unsubscribe("o/a", first);
      assert.equal(await numsub(topic("o/a")), 1);
      await edge.unsubscribe("o/a", second);
      assert.equal(await numsub(topic("o/a")), 0, "the last listener left: unsubscribed");
      assert.equal(edge.channelCount, 0);
    } finally {
      await close();
    }
  });

  test("concurrent subscribe and unsubscribe of one channel end as the last call says", async () => {
    const { edge, keyPrefix, close } = await openEdges();
    try {
      const listener = new Recorder();
      await Promise.all([
        edge.subscribe("o/a", listener),
        edge.unsubscribe("o/a", listener),
        edge.subscribe("o/a", listener),
      ]);
      assert.equal(await numsub(`${keyPrefix}broker:o/a`), 1);
      await Promise.all([edge.subscribe("o/b", listener), edge.unsubscribe("o/b", listener)]);
      assert.equal(await numsub(`${keyPrefix}broker:o/b`), 0);
    } finally {
      await close();
    }
  });

  test("a channel whose keys vanished (Redis restarted empty) starts a new epoch: old positions refetch", async () => {
    const { publisher, edge, keyPrefix, close } = await openEdges();
    try {
      await publisher.publish("o/a", publication("a"));
      const before = await published(publisher, "o/a");
      await redis.del([`${keyPrefix}broker:{o/a}:meta`, `${keyPrefix}broker:{o/a}:history`]);
      const history = await edge.history("o/a", create(StreamPositionSchema, { offset: 1n, epoch: before.epoch }));
      assert.equal(history.recovered, false);
      assert.notEqual(history.position.epoch, before.epoch);
      assert.equal(history.position.offset, 0n);
      const next = await published(publisher, "o/a");
      assert.deepEqual([next.offset, next.epoch], [1n, history.position.epoch]);
    } finally {
      await close();
    }
  });

  test("a channel left alone past its TTL forgets its history", async () => {
    const { publisher, keyPrefix, close } = await openEdges({ historyTtlMs: 200 });
    try {
      const first = await published(publisher, "o/a");
      const ttl = Number(await redis.pTTL(`${keyPrefix}broker:{o/a}:history`));
      // -1 would be a key kept forever; -2 (already gone) is fine on a slow machine.
      assert.ok(ttl !== -1 && ttl <= 200, `history key expires (pttl ${ttl})`);
      const since = create(StreamPositionSchema, { offset: 0n, epoch: first.epoch });
      await waitFor(async () => (await redis.exists(`${keyPrefix}broker:{o/a}:meta`)) === 0, "the keys to expire");
      assert.equal((await publisher.history("o/a", since)).recovered, false);
    } finally {
      await close();
    }
  });

  test("a subscriber connection killed in Redis reconnects, resubscribes and fills the gap from history", async () => {
    const { publisher, edge, keyPrefix, close } = await openEdges();
    try {
      const listener = new Recorder();
      await edge.subscribe("o/a", listener);
      await publisher.publish("o/a", publication("a"));
      await waitFor(() => listener.publications.length === 1, "the first publication");
      const killed = await killSubscriber(keyPrefix);
      assert.equal(killed, 1, "the edge's subscriber connection (the publisher's has no channel)");
      // Published while the edge's subscriber is gone: pub/sub drops it, history does not. Once
      // reconnected (and resubscribed), the edge reads what it missed without waiting for more.
      await publisher.publish("o/a", publication("a"));
      await waitFor(() => listener.publications.length === 2, "the missed publication, from history");
      assert.equal(await numsub(`${keyPrefix}broker:o/a`), 1, "resubscribed");
      await publisher.publish("o/a", publication("a"));
      await waitFor(() => listener.publications.length === 3, "the next publication, live");
      assert.deepEqual(listener.offsets("o/a"), [1n, 2n, 3n]);
      assert.deepEqual(listener.losses, [], "a dropped connection loses nothing history cannot fill");
    } finally {
      await close();
    }
  });

  test("an edge that was not listening when the channel lost its history and went on hands on the new epoch from history, without waiting for more", async () => {
    const { publisher, edge, keyPrefix, close } = await openEdges();
    try {
      const listener = new Recorder();
      await edge.subscribe("o/a", listener);
      const before = await published(publisher, "o/a");
      await waitFor(() => listener.publications.length === 1, "the first publication");
      // The channel's keys gone, as with a Redis restarted empty, and two publications of a new
      // epoch positioned and kept in history but never PUBLISHed: what went out while this edge's
      // subscriber was still reconnecting. Nothing more is published on the channel.
      const meta = `${keyPrefix}broker:{o/a}:meta`;
      const history = `${keyPrefix}broker:{o/a}:history`;
      await redis.del([meta, history]);
      await redis.hSet(meta, { epoch: "new", offset: 2 });
      for (const offset of [1n, 2n]) {
        const missed = create(PublicationSchema, { channel: "a", offset, epoch: "new" });
        await redis.xAdd(history, `${offset}-0`, { p: Buffer.from(toBinary(PublicationSchema, missed)) });
      }
      assert.equal(await killSubscriber(keyPrefix), 1);
      await waitFor(() => listener.publications.length === 3, "the new epoch's publications, from history");
      assert.deepEqual(
        listener.publications.map(([, p]) => [p.offset, p.epoch]),
        [
          [1n, before.epoch],
          [1n, "new"],
          [2n, "new"],
        ],
        "its listeners see the new epoch (their clients read the channel again) and miss none of it",
      );
      assert.deepEqual(
        listener.losses.map(([channel, p]) => [channel, p.offset, p.epoch]),
        [["o/a", 2n, "new"]],
        "told once that the channel's state was lost, at the position the edge goes on from",
      );
    } finally {
      await close();
    }
  });

  test("an edge away longer than the history reaches tells its listeners the state was lost, once, and goes on from the channel's position", async () => {
    const { publisher, edge, keyPrefix, close } = await openEdges();
    try {
      const listener = new Recorder();
      await edge.subscribe("o/a", listener);
      const first = await published(publisher, "o/a");
      await waitFor(() => listener.publications.length === 1, "the first publication");
      // Offsets 2 to 4 positioned while the edge was away, and 2 trimmed from history since.
      await redis.hIncrBy(`${keyPrefix}broker:{o/a}:meta`, "offset", 3);
      for (const offset of [3n, 4n]) {
        const kept = create(PublicationSchema, { channel: "a", offset, epoch: first.epoch });
        await redis.xAdd(`${keyPrefix}broker:{o/a}:history`, `${offset}-0`, {
          p: Buffer.from(toBinary(PublicationSchema, kept)),
        });
      }
      await redis.xDel(`${keyPrefix}broker:{o/a}:history`, "1-0");
      assert.equal(await killSubscriber(keyPrefix), 1);
      await waitFor(() => listener.losses.length === 1, "the loss, told after the reconnect");
      assert.deepEqual(
        listener.losses.map(([channel, p]) => [channel, p.offset, p.epoch]),
        [["o/a", 4n, first.epoch]],
      );
      await published(publisher, "o/a");
      await waitFor(() => listener.publications.length === 2, "the next publication");
      assert.deepEqual(listener.offsets("o/a"), [1n, 5n], "from the channel's position on, no gap to fill");
      assert.equal(listener.losses.length, 1, "told once");
    } finally {
      await close();
    }
  });

  test("a publication that skips ahead makes the edge fetch the gap from history first", async () => {
    const { publisher, edge, keyPrefix, close } = await openEdges();
    try {
      const listener = new Recorder();
      await edge.subscribe("o/a", listener);
      await publisher.publish("o/a", publication("a"));
      await waitFor(() => listener.publications.length === 1, "the first publication");
      // Offset 2 is positioned and kept in history, but never PUBLISHed: as if pub/sub dropped it.
      const first = listener.publications[0]![1];
      const dropped = create(PublicationSchema, { channel: "a", offset: 2n, epoch: first.epoch });
      await redis.hIncrBy(`${keyPrefix}broker:{o/a}:meta`, "offset", 1);
      await redis.xAdd(`${keyPrefix}broker:{o/a}:history`, "2-0", {
        p: Buffer.from(toBinary(PublicationSchema, dropped)),
      });
      await publisher.publish("o/a", publication("a"));
      await waitFor(() => listener.publications.length === 3, "the dropped one and the next");
      assert.deepEqual(listener.offsets("o/a"), [1n, 2n, 3n]);
    } finally {
      await close();
    }
  });

  test("bad input and an unreachable Redis give clear typed errors", async () => {
    const { publisher, close } = await openEdges();
    try {
      await assert.rejects(publisher.publish("", publication("a")), TypeError);
      await assert.rejects(RedisBroker.connect({ historySize: 0 }), RangeError);
      await assert.rejects(
        RedisBroker.connect({ url: "redis://127.0.0.1:1", commandTimeoutMs: 500, ...quiet }),
        RedisUnavailableError,
      );
    } finally {
      await close();
    }
  });

  /** Kills the edge's subscriber connection, found by the name it gives itself. */
  async function killSubscriber(keyPrefix: string): Promise<number> {
    const list = (await redis.sendCommand(["CLIENT", "LIST", "TYPE", "pubsub"])) as Buffer;
    let killed = 0;
    for (const line of list.toString().split("\n")) {
      const id = /\bid=(\d+)/.exec(line)?.[1];
      if (!id || !line.includes(` name=${keyPrefix}broker-subscriber `)) continue;
      killed += Number(await redis.sendCommand(["CLIENT", "KILL", "ID", id]));
    }
    return killed;
  }
});

describe("RedisBroker when Redis goes away", { skip: skip || privateRedisSkip() }, () => {
  test("a publish to a stalled Redis rejects after commandTimeoutMs instead of hanging", async () => {
    const server = await PrivateRedis.start({ debugCommand: true });
    const publisher = await RedisBroker.connect({ url: server.url, keyPrefix: "t:", commandTimeoutMs: 300, ...quiet });
    const admin = await openTestRedis(server.url);
    try {
      const stall = admin.sendCommand(["DEBUG", "SLEEP", "2"]).catch(() => {});
      await assert.rejects(publisher.publish("o/a", publication("a")), (error: unknown) => {
        assert.ok(error instanceof RedisUnavailableError, String(error));
        assert.match(error.message, /publish to o\/a/);
        return true;
      });
      await stall;
      await retry(() => publisher.publish("o/a", publication("a")));
    } finally {
      admin.destroy();
      await publisher.close();
      await server.kill();
    }
  });

  test("a publish while Redis is down rejects at once; after a restart without persistence, a new epoch", async () => {
    const server = await PrivateRedis.start();
    const settings = { url: server.url, keyPrefix: "t:", commandTimeoutMs: 2000, ...quiet };
    const publisher = await RedisBroker.connect(settings);
    const edge = await RedisBroker.connect(settings);
    try {
      const listener = new Recorder();
      await edge.subscribe("o/a", listener);
      const before = await published(publisher, "o/a");
      await waitFor(() => listener.publications.length === 1, "the first publication");

      await server.kill();
      await assert.rejects(publisher.publish("o/a", publication("a")), RedisUnavailableError);
      await assert.rejects(publisher.history("o/a"), RedisUnavailableError);

      await server.restart();
      // The clients reconnect on their own; the edge's subscriber resubscribes its channel.
      const after = await retry(() => published(publisher, "o/a"));
      assert.notEqual(after.epoch, before.epoch, "the keys died with Redis: a new epoch");
      assert.equal(after.offset, 1n);
      // The edge's own connections come back on their own schedule: retried until they have.
      const recovery = await retry(() =>
        edge.history("o/a", create(StreamPositionSchema, { offset: 1n, epoch: before.epoch })),
      );
      assert.equal(recovery.recovered, false);
      await retry(async () => {
        await publisher.publish("o/a", publication("a"));
        await waitFor(() => listener.publications.length > 1, "a publication after the restart", 500);
      });
      assert.ok(listener.publications.slice(1).every(([, p]) => p.epoch !== before.epoch));
    } finally {
      await Promise.all([publisher.close(), edge.close()]);
      await server.kill();
    }
  });
});

describe("RedisBroker after Redis restarts", { skip: skip || privateRedisSkip() }, () => {
  /** A private Redis with a publisher and an edge on it; the edge listens to o/a and o/b. */
  async function restartable() {
    const server = await PrivateRedis.start();
    const settings = { url: server.url, keyPrefix: "t:", commandTimeoutMs: 2000, ...quiet };
    const publisher = await RedisBroker.connect(settings);
    const edge = await RedisBroker.connect(settings);
    const listener = new Recorder();
    const admin = await openTestRedis(server.url);
    return {
      server,
      publisher,
      edge,
      listener,
      admin,
      async close() {
        admin.destroy();
        await Promise.all([publisher.close(), edge.close()]);
        await server.kill();
      },
    };
  }

  test("restarted empty: the edge tells its listeners each channel's state was lost, once, though nothing more is published", async () => {
    const { server, publisher, edge, listener, admin, close } = await restartable();
    try {
      // o/a: the edge delivered a publication. o/b: published before the edge listened, nothing since.
      await edge.subscribe("o/a", listener);
      const before = await published(publisher, "o/a");
      await published(publisher, "o/b");
      await edge.subscribe("o/b", listener);
      await waitFor(() => listener.publications.length === 1, "the first publication");

      await server.restart();
      await waitFor(() => listener.losses.length === 2, "both channels' losses, told after the reconnect");
      const losses = new Map(listener.losses);
      assert.deepEqual([...losses.keys()].sort(), ["o/a", "o/b"]);
      assert.notEqual(losses.get("o/a")!.epoch, before.epoch, "told the position of the new epoch");
      assert.equal(losses.get("o/a")!.offset, 0n);
      assert.equal(listener.publications.length, 1, "nothing was published since: told all the same");

      // The new epoch goes on; a dropped connection later must not tell the loss again. The
      // publication made while the subscriber is cut arrives only once the edge has read history.
      await admin.close();
      const next = await retry(() => published(publisher, "o/a"));
      assert.equal(next.epoch, losses.get("o/a")!.epoch);
      await waitFor(() => listener.publications.length === 2, "the new epoch's first publication, live");
      const fresh = await openTestRedis(server.url);
      try {
        await fresh.sendCommand(["CLIENT", "KILL", "TYPE", "pubsub"]);
      } finally {
        fresh.destroy();
      }
      await published(publisher, "o/a");
      await waitFor(() => listener.publications.length === 3, "the publication missed while cut, from history");
      assert.deepEqual(listener.offsets("o/a"), [1n, 1n, 2n]);
      assert.equal(listener.losses.length, 2, "each loss told once");
    } finally {
      await close();
    }
  });

  test("restarted with its data: only a channel whose keys are gone is told", async () => {
    const { server, publisher, edge, listener, admin, close } = await restartable();
    try {
      await edge.subscribe("o/a", listener);
      await edge.subscribe("o/b", listener);
      await published(publisher, "o/a");
      await published(publisher, "o/b");
      await waitFor(() => listener.publications.length === 2, "the first publications");
      // o/b's keys gone (as a channel idle past its TTL): the loss the edge must find, and the sign
      // that it has read history again after the restart. Its channels are read in the order they
      // were subscribed, on one connection: o/a's verdict comes first.
      await admin.del(["t:broker:{o/b}:meta", "t:broker:{o/b}:history"]);
      await server.restart({ keepData: true });
      await waitFor(() => listener.losses.length === 1, "o/b's loss");
      assert.deepEqual(
        listener.losses.map(([channel]) => channel),
        ["o/b"],
      );
      const next = await retry(() => published(publisher, "o/a"));
      assert.equal(next.offset, 2n, "o/a's state survived the restart");
      await waitFor(() => listener.publications.length === 3, "o/a's next publication");
      assert.equal(listener.losses.length, 1);
    } finally {
      await close();
    }
  });
});

/** Calls `attempt` until it succeeds, for at most 10 s. */
async function retry<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
