import assert from "node:assert/strict";
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { describe, test } from "node:test";
import {
  consumeBatches,
  createTopics,
  deleteTopics,
  ensureTopics,
  listTopics,
  openProducer,
  subscribe,
  type ConsumedRecord,
} from "./kafka-client";
import { kafkaTestConnection as connection, kafkaTestSkip } from "./testing";

const skip = await kafkaTestSkip();
const text = new TextEncoder();
const utf8 = new TextDecoder();

function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString("hex")}`;
}

/** A fresh topic for one test, deleted after it. */
async function withTopic(partitions: number, run: (topic: string) => Promise<void>): Promise<void> {
  const topic = uniqueName("test");
  await createTopics(connection, [{ name: topic, partitions }]);
  try {
    await run(topic);
  } finally {
    await deleteTopics(connection, [topic]);
  }
}

/** The first `count` records a new consumer group reads from the start of the topic. */
async function readFromStart(topic: string, count: number): Promise<ConsumedRecord[]> {
  const subscription = await subscribe(connection, { groupId: uniqueName("group"), topics: [topic] });
  const records: ConsumedRecord[] = [];
  try {
    for await (const record of subscription) {
      records.push(record);
      if (records.length === count) break;
    }
  } finally {
    await subscription.close();
  }
  return records;
}

describe("Kafka client on the real broker", { skip, timeout: 120_000 }, () => {
  test("a record sent is read back by a new consumer group with its key and value", async () => {
    await withTopic(3, async (topic) => {
      const producer = openProducer(connection);
      try {
        await producer.send([{ topic, key: text.encode("order-1"), value: text.encode("created") }]);
      } finally {
        await producer.close();
      }
      const [record] = await readFromStart(topic, 1);
      assert.equal(record!.topic, topic);
      assert.equal(utf8.decode(record!.key), "order-1");
      assert.equal(utf8.decode(record!.value), "created");
      assert.equal(record!.offset, 0n);
    });
  });

  test("records of one key keep their order on one partition", async () => {
    await withTopic(4, async (topic) => {
      const keys = ["order-a", "order-b", "order-c"];
      const perKey = 10;
      const producer = openProducer(connection);
      try {
        for (let i = 0; i < perKey; i++) {
          await producer.send(keys.map((key) => ({ topic, key: text.encode(key), value: text.encode(String(i)) })));
        }
      } finally {
        await producer.close();
      }
      const records = await readFromStart(topic, keys.length * perKey);
      for (const key of keys) {
        const ofKey = records.filter((r) => utf8.decode(r.key) === key);
        assert.deepEqual(
          ofKey.map((r) => utf8.decode(r.value)),
          Array.from({ length: perKey }, (_, i) => String(i)),
        );
        assert.equal(new Set(ofKey.map((r) => r.partition)).size, 1, `${key} stayed on one partition`);
      }
    });
  });

  test("a send to a topic that does not exist fails alone; the sends made with it are written", async () => {
    await withTopic(1, async (topic) => {
      const producer = openProducer(connection);
      try {
        const sends = [
          producer.send([{ topic, key: text.encode("a"), value: text.encode("before") }]),
          producer.send([{ topic: uniqueName("missing"), key: text.encode("a"), value: text.encode("lost") }]),
          producer.send([{ topic, key: text.encode("a"), value: text.encode("after") }]),
        ];
        const settled = await Promise.allSettled(sends);
        assert.deepEqual(
          settled.map((outcome) => outcome.status),
          ["fulfilled", "rejected", "fulfilled"],
        );
      } finally {
        await producer.close();
      }
      const records = await readFromStart(topic, 2);
      assert.deepEqual(
        records.map((r) => utf8.decode(r.value)),
        ["before", "after"],
      );
    });
  });

  test("a static member started again under its name after a kill -9 takes the partitions at once", async () => {
    // A session far longer than the test may take: a dynamic member would wait all of it for the
    // dead one's partitions, so only the static takeover lets the test end.
    const sessionTimeoutMs = 300_000;
    await withTopic(1, async (topic) => {
      const groupId = uniqueName("static");
      const producer = openProducer(connection);
      const member = fork(
        new URL("./static-member.fixture.ts", import.meta.url),
        [groupId, topic, "member-1", String(sessionTimeoutMs)],
        {
          execArgv: ["--import", "tsx"],
          stdio: ["ignore", "inherit", "inherit", "ipc"],
        },
      );
      let next: ReturnType<typeof consumeBatches> | undefined;
      try {
        const handled = once(member, "message");
        await producer.send([{ topic, key: text.encode("k"), value: text.encode("before") }]);
        await handled;
        member.kill("SIGKILL");
        await once(member, "exit");

        const seen: string[] = [];
        let heard: () => void = () => {};
        const after = new Promise<void>((resolve) => (heard = resolve));
        next = consumeBatches(
          { ...connection, sessionTimeoutMs },
          {
            groupId,
            topics: [topic],
            from: "earliest",
            instanceId: "member-1",
            handle: async (records) => {
              for (const record of records) seen.push(utf8.decode(record.value));
              if (seen.includes("after")) heard();
            },
          },
        );
        await next;
        await producer.send([{ topic, key: text.encode("k"), value: text.encode("after") }]);
        await after;
        assert.ok(seen.includes("after"));
      } finally {
        member.kill("SIGKILL");
        await (await next)?.close();
        await producer.close();
      }
    });
  });

  test("processes ensuring one new topic at once all succeed, the losers of the race included", async () => {
    const topic = uniqueName("ensured");
    try {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 6 }, () => ensureTopics(connection, [{ name: topic, partitions: 2 }])),
      );
      assert.deepEqual(
        outcomes.filter((outcome) => outcome.status === "rejected").map((outcome) => String(outcome.reason)),
        [],
      );
      assert.ok((await listTopics(connection)).includes(topic));
    } finally {
      await deleteTopics(connection, [topic]);
    }
  });
});
