import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { consumeBatches, deleteTopics, ensureTopics, groupMemberCounts, listTopics } from "@sluice/kafka";
import { kafkaTestConnection, kafkaTestSkip } from "@sluice/kafka/testing";
import { KafkaCommandBus } from "./kafka-command-bus";
import { startRepliesJanitor } from "./replies-janitor";
import { freshBusOptions } from "./testing";
import { repliesGroup, repliesTopic } from "./topics";

const skip = await kafkaTestSkip();

describe("the replies janitor on the real broker", { skip, timeout: 120_000 }, () => {
  const options = freshBusOptions();
  const live = repliesTopic(options, "live");
  const dead = repliesTopic(options, "dead");
  after(async () => {
    await deleteTopics(kafkaTestConnection, [live, dead]).catch(() => undefined);
    await options.cleanUp();
  });

  test("deletes a replies topic whose gateway died, at the second look, and never a running gateway's", async () => {
    const running = await KafkaCommandBus.open({ ...options, gatewayId: "live" });
    // A gateway that read its replies and then died: its topic and group stay, the group empty.
    await ensureTopics(kafkaTestConnection, [{ name: dead, partitions: 1 }]);
    const died = await consumeBatches(kafkaTestConnection, {
      groupId: repliesGroup(options, "dead"),
      topics: [dead],
      from: "earliest",
      handle: async () => {},
    });
    await died.close();
    const janitor = startRepliesJanitor({ ...options, intervalMs: 3_600_000, graceMs: 0 });
    try {
      // The running gateway's group has its member before any look.
      assert.equal(
        (await groupMemberCounts(kafkaTestConnection, [repliesGroup(options, "live")])).get(
          repliesGroup(options, "live"),
        ),
        1,
      );
      await janitor.sweep();
      // Seen once without a reader: a gateway starting up looks like that for a moment.
      assert.ok((await listTopics(kafkaTestConnection)).includes(dead), "kept after one look");
      await janitor.sweep();
      const topics = await listTopics(kafkaTestConnection);
      assert.ok(!topics.includes(dead), "the dead gateway's topic is gone after the second look");
      assert.ok(topics.includes(live), "the running gateway's topic stays");
      await janitor.sweep();
      assert.ok((await listTopics(kafkaTestConnection)).includes(live), "and stays at every look");
    } finally {
      await janitor.stop();
      await running.close();
    }
  });
});
