import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RecordedEvent } from "@sluice/event-store";
import { openProducer } from "@sluice/kafka";
import { kafkaTestConnection, kafkaTestSkip } from "@sluice/kafka/testing";
import { KafkaEventBus } from "./kafka-event-bus";
import { eventually, orderEvents } from "../testing";
import { freshBusOptions } from "./testing";
import { eventsTopic } from "./topics";

const skip = await kafkaTestSkip();
const versionsOf = (events: readonly RecordedEvent[], streamId: string) =>
  events.filter((e) => e.streamId === streamId).map((e) => Number(e.streamVersion));
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
/** What a consumer keeps of a stream's versions: each one above the last it kept. */
const withoutRepeats = (versions: readonly number[]) =>
  versions.filter((version, i) => versions.slice(0, i).every((earlier) => earlier < version));

describe("KafkaEventBus on the real broker", { skip, timeout: 120_000 }, () => {
  test("every consumer group gets every event, each stream in order, as it was recorded", async () => {
    const options = freshBusOptions();
    const bus = await KafkaEventBus.open(options);
    try {
      const streams = [orderEvents(10), orderEvents(10), orderEvents(10)];
      // Interleaved batches, as the outbox hands them on.
      for (let i = 0; i < 10; i += 5) await bus.publish(streams.flatMap((events) => events.slice(i, i + 5)));
      const first: RecordedEvent[] = [];
      const second: RecordedEvent[] = [];
      bus.subscribe("first", (events) => void first.push(...events));
      bus.subscribe("second", (events) => void second.push(...events));
      await eventually("both groups have all 30 events", () => first.length >= 30 && second.length >= 30);
      for (const heard of [first, second]) {
        assert.equal(heard.length, 30);
        for (const events of streams) assert.deepEqual(versionsOf(heard, events[0]!.streamId), oneTo(10));
      }
      const sent = streams[0]![3]!;
      assert.deepEqual(
        first.find((e) => e.eventId === sent.eventId),
        sent,
      );
    } finally {
      await bus.close();
      await options.cleanUp();
    }
  });

  test("two members of one group split the partitions; each stream's events arrive in order", async () => {
    const options = freshBusOptions(4);
    const a = await KafkaEventBus.open(options);
    const b = await KafkaEventBus.open(options);
    try {
      const heardByA: RecordedEvent[] = [];
      const heardByB: RecordedEvent[] = [];
      /** Both members' deliveries in the order they came. */
      const arrivals: RecordedEvent[] = [];
      a.subscribe("split", (events) => void (heardByA.push(...events), arrivals.push(...events)));
      b.subscribe("split", (events) => void (heardByB.push(...events), arrivals.push(...events)));
      // Until both have heard something, the group may still be rebalancing to two members.
      const warmUp = setInterval(() => void a.publish(Array.from({ length: 20 }, () => orderEvents(1)[0]!)), 200);
      try {
        await eventually("both members have partitions", () => heardByA.length > 0 && heardByB.length > 0);
      } finally {
        clearInterval(warmUp);
      }
      const streams = Array.from({ length: 20 }, () => orderEvents(5));
      for (let i = 0; i < 5; i++) await a.publish(streams.map((events) => events[i]!));
      const ids = streams.map((events) => events[0]!.streamId);
      const heard = (events: RecordedEvent[]) => events.filter((e) => ids.includes(e.streamId));
      const distinct = () => new Set([...heard(heardByA), ...heard(heardByB)].map((e) => e.eventId)).size;
      await eventually("all 100 events are heard", () => distinct() >= 100);
      // At least once: a produce retried under load puts a record on the topic twice, and a
      // rebalance (a member's session late under load) hands a partition to the other member from
      // its last committed offset. Consumers drop repeats by stream and version (StreamVersions);
      // what they keep is whole and in order, whichever member had the stream.
      assert.equal(distinct(), 100, "every event");
      for (const id of ids) assert.deepEqual(withoutRepeats(versionsOf(arrivals, id)), oneTo(5), `${id} in order`);
      assert.ok(heard(heardByA).length > 0 && heard(heardByB).length > 0, "both members had streams");
    } finally {
      await Promise.all([a.close(), b.close()]);
      await options.cleanUp();
    }
  });

  test("a handler that throws gets the same events again: offsets wait for it to succeed", async () => {
    const options = freshBusOptions();
    const bus = await KafkaEventBus.open(options);
    try {
      const events = orderEvents(5);
      await bus.publish(events);
      const failedOn: RecordedEvent[] = [];
      const handled: RecordedEvent[] = [];
      bus.subscribe("flaky", (batch) => {
        if (failedOn.length === 0) {
          failedOn.push(...batch);
          throw new Error("projection database unavailable");
        }
        handled.push(...batch);
      });
      await eventually("the events are handled", () => handled.length >= 5);
      assert.ok(failedOn.length > 0);
      assert.deepEqual(
        handled.slice(0, failedOn.length).map((e) => e.eventId),
        failedOn.map((e) => e.eventId),
        "the failed batch came again",
      );
      assert.deepEqual(versionsOf(handled, events[0]!.streamId), oneTo(5));
    } finally {
      await bus.close();
      await options.cleanUp();
    }
  });

  test("a member that leaves hands on what it did not finish; the group's next member resumes after the last commit", async () => {
    const options = freshBusOptions();
    const bus = await KafkaEventBus.open(options);
    try {
      const events = orderEvents(6);
      await bus.publish(events.slice(0, 3));
      const firstMember: RecordedEvent[] = [];
      const leave = bus.subscribe("resume", (batch) => void firstMember.push(...batch));
      await eventually("the first member handled 3", () => firstMember.length >= 3);
      leave();
      await bus.publish(events.slice(3));
      const nextMember: RecordedEvent[] = [];
      bus.subscribe("resume", (batch) => void nextMember.push(...batch));
      await eventually("the next member handled the rest", () => nextMember.length >= 3);
      assert.deepEqual(
        nextMember.map((e) => Number(e.streamVersion)),
        [4, 5, 6],
        "nothing committed is read again",
      );
    } finally {
      await bus.close();
      await options.cleanUp();
    }
  });

  test("a malformed record is skipped and logged; the events after it still arrive", async () => {
    const options = freshBusOptions(1);
    const bus = await KafkaEventBus.open(options);
    const producer = openProducer(kafkaTestConnection);
    try {
      const topic = eventsTopic(options, "dispatch");
      await producer.send([
        { topic, key: new TextEncoder().encode("order-x"), value: new Uint8Array([0xff, 0xff, 0xff]) },
      ]);
      const events = orderEvents(2);
      await bus.publish(events);
      const heard: RecordedEvent[] = [];
      bus.subscribe("tolerant", (batch) => void heard.push(...batch));
      await eventually("the valid events arrive", () => heard.length >= 2);
      assert.deepEqual(
        heard.map((e) => e.eventId),
        events.map((e) => e.eventId),
      );
    } finally {
      await producer.close();
      await bus.close();
      await options.cleanUp();
    }
  });
});
