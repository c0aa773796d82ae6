import {
  consumeBatches,
  ensureTopics,
  openProducer,
  type BatchConsumer,
  type ConsumedRecord,
  type KafkaProducer,
} from "@sluice/kafka";
import type { RecordedEvent } from "@sluice/event-store";
import type { EventBus, EventHandler } from "../event-bus";
import { decodeEvent, encodeEvent } from "../records/event-record";
import {
  contextOfStreamType,
  defaultPartitions,
  eventsTopic,
  groupName,
  knownContext,
  type KafkaBusOptions,
} from "./topics";

const encoder = new TextEncoder();

/**
 * The scale-out shape's event bus: each bounded context's events go to its events topic
 * ("dispatch.events"), keyed by stream id, so a stream's events stay on one partition in order.
 * A consumer group reads every context's events topic this bus knows; its members split the
 * partitions, and offsets are committed only after the handler resolved (at least once: a
 * handler that throws gets the same events again, a member that dies leaves them to the next).
 * A new group starts at the beginning of the topics.
 */
export class KafkaEventBus implements EventBus {
  readonly #options: KafkaBusOptions;
  readonly #producer: KafkaProducer;
  /** Each member joining or in its group, by the promise of its consumer. */
  readonly #members = new Set<Promise<BatchConsumer | undefined>>();
  readonly #leaving = new Set<Promise<void>>();

  private constructor(options: KafkaBusOptions, producer: KafkaProducer) {
    this.#options = options;
    this.#producer = producer;
  }

  /** Creates the contexts' events topics when missing. */
  static async open(options: KafkaBusOptions): Promise<KafkaEventBus> {
    const partitions = options.partitions ?? defaultPartitions;
    await ensureTopics(
      options.connection,
      options.contexts.map((context) => ({ name: eventsTopic(options, context), partitions })),
    );
    return new KafkaEventBus(options, openProducer(options.connection));
  }

  /** Resolves once the broker has acknowledged every event (all in-sync replicas). */
  async publish(events: readonly RecordedEvent[]): Promise<void> {
    await this.#producer.send(
      events.map((event) => ({
        topic: eventsTopic(this.#options, knownContext(this.#options, contextOfStreamType(event.streamType))),
        key: encoder.encode(event.streamId),
        value: encodeEvent(event),
      })),
    );
  }

  subscribe(group: string, handler: EventHandler): () => void {
    const groupId = groupName(this.#options, group);
    const handle = async (records: readonly ConsumedRecord[]) => {
      const events: RecordedEvent[] = [];
      for (const record of records) {
        try {
          events.push(decodeEvent(record.value));
        } catch (error) {
          console.error(
            `event bus: group ${group} skipped ${record.topic}/${record.partition}@${record.offset}`,
            error,
          );
        }
      }
      if (events.length > 0) await handler(events);
    };
    const member = consumeBatches(this.#options.connection, {
      groupId,
      topics: this.#options.contexts.map((context) => eventsTopic(this.#options, context)),
      from: "earliest",
      handle,
      onError: (error) => console.error(`event bus: consumer group ${group}`, error),
    }).catch((error: unknown) => {
      console.error(`event bus: could not join consumer group ${group}`, error);
      return undefined;
    });
    this.#members.add(member);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#members.delete(member);
      const leaving = member
        .then((consumer) => consumer?.close())
        .catch((error: unknown) => console.error(`event bus: leaving consumer group ${group} failed`, error));
      this.#leaving.add(leaving);
      void leaving.finally(() => this.#leaving.delete(leaving));
    };
  }

  /** Leaves every group joined here (finishing the batches in hand) and flushes what is being published. */
  async close(): Promise<void> {
    const members = [...this.#members];
    this.#members.clear();
    await Promise.all(members.map(async (member) => (await member)?.close()));
    await Promise.all(this.#leaving);
    await this.#producer.close();
  }
}
