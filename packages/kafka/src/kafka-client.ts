// The one file that speaks to a Kafka client library (@platformatic/kafka for now): the choice between
// it and kafkajs is made later by a benchmark, and swapping means rewriting only this file.
import { Admin, Consumer, Producer } from "@platformatic/kafka";

export interface KafkaConnection {
  /** host:port of the bootstrap brokers, e.g. ["127.0.0.1:9092"]. */
  readonly brokers: readonly string[];
  /** Names this process in the broker's logs and quotas. */
  readonly clientId: string;
}

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
}

export interface KafkaRecord {
  readonly topic: string;
  /** Records with one key land on one partition, in the order they were sent. */
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export interface ConsumedRecord extends KafkaRecord {
  readonly partition: number;
  readonly offset: bigint;
}

export interface KafkaProducer {
  /** Resolves once the broker has acknowledged every record (acks from all in-sync replicas). */
  send(records: readonly KafkaRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface KafkaSubscription extends AsyncIterable<ConsumedRecord> {
  close(): Promise<void>;
}

function base(connection: KafkaConnection) {
  return { clientId: connection.clientId, bootstrapBrokers: [...connection.brokers] };
}

/** Whether a broker answers a metadata request within timeoutMs; never throws. */
export async function kafkaReachable(connection: KafkaConnection, timeoutMs = 2000): Promise<boolean> {
  const admin = new Admin({ ...base(connection), connectTimeout: timeoutMs, requestTimeout: timeoutMs, retries: 0 });
  try {
    await admin.metadata({ topics: [] });
    return true;
  } catch {
    return false;
  } finally {
    await admin.close().catch(() => {});
  }
}

export async function createTopics(connection: KafkaConnection, topics: readonly TopicSpec[]): Promise<void> {
  const admin = new Admin(base(connection));
  try {
    for (const { name, partitions } of topics) {
      await admin.createTopics({ topics: [name], partitions, replicas: 1 });
    }
  } finally {
    await admin.close();
  }
}

export async function deleteTopics(connection: KafkaConnection, names: readonly string[]): Promise<void> {
  const admin = new Admin(base(connection));
  try {
    await admin.deleteTopics({ topics: [...names] });
  } finally {
    await admin.close();
  }
}

export function openProducer(connection: KafkaConnection): KafkaProducer {
  // Idempotent: a retried send after a lost acknowledgement is not written twice.
  const producer = new Producer({ ...base(connection), idempotent: true, acks: -1 });
  return {
    async send(records) {
      await producer.send({
        messages: records.map((r) => ({ topic: r.topic, key: Buffer.from(r.key), value: Buffer.from(r.value) })),
      });
    },
    close: () => producer.close(),
  };
}

/** Joins groupId and reads topics from the group's committed offsets, or from the start for a new group. */
export async function subscribe(
  connection: KafkaConnection,
  options: { readonly groupId: string; readonly topics: readonly string[] },
): Promise<KafkaSubscription> {
  const consumer = new Consumer({ ...base(connection), groupId: options.groupId });
  const stream = await consumer.consume({
    topics: [...options.topics],
    mode: "committed",
    fallbackMode: "earliest",
    autocommit: true,
  });
  return {
    async *[Symbol.asyncIterator]() {
      for await (const message of stream) {
        yield {
          topic: message.topic,
          partition: message.partition,
          offset: message.offset,
          key: message.key,
          value: message.value,
        };
      }
    },
    async close() {
      await stream.close();
      await consumer.close();
    },
  };
}
