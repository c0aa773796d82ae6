// The one file that speaks to a Kafka client library: @platformatic/kafka, chosen over kafkajs by
// a benchmark (docs/decisions/0011-kafka-client.md). Swapping means rewriting only this file.
import { Admin, Consumer, Producer, type Message } from "@platformatic/kafka";

export interface KafkaConnection {
  /** host:port of the bootstrap brokers, e.g. ["127.0.0.1:9092"]. */
  readonly brokers: readonly string[];
  /** Names this process in the broker's logs and quotas. */
  readonly clientId: string;
  /**
   * How long a consumer group waits for a member that stopped heartbeating (a crashed process)
   * before it gives that member's partitions to the others; 10 s unless told. Brokers refuse less
   * than their group.min.session.timeout.ms (6 s by default).
   */
  readonly sessionTimeoutMs?: number;
}

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** Topic-level settings, e.g. { "retention.ms": "3600000" }. */
  readonly configs?: Readonly<Record<string, string>>;
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

/** The client's default is a minute: after a kill -9 a group's partitions would wait that long. */
export const defaultSessionTimeoutMs = 10_000;

/** A group member's liveness settings: heartbeats at a third of the session timeout, at most every 3 s. */
function membership(connection: KafkaConnection) {
  const sessionTimeout = connection.sessionTimeoutMs ?? defaultSessionTimeoutMs;
  return {
    sessionTimeout,
    heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeout / 3)),
    // The client requires rebalanceTimeout >= sessionTimeout; its default is 102 s.
    rebalanceTimeout: Math.max(102_000, sessionTimeout),
  };
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
    for (const topic of topics) await createTopic(admin, topic);
  } finally {
    await admin.close();
  }
}

function createTopic(admin: Admin, { name, partitions, configs = {} }: TopicSpec) {
  return admin.createTopics({
    topics: [name],
    partitions,
    replicas: 1,
    configs: Object.entries(configs).map(([key, value]) => ({ name: key, value })),
  });
}

export async function listTopics(connection: KafkaConnection): Promise<string[]> {
  const admin = new Admin(base(connection));
  try {
    return await admin.listTopics();
  } finally {
    await admin.close();
  }
}

/** Creates those of the topics that do not exist yet; an existing topic is left as it is. */
export async function ensureTopics(connection: KafkaConnection, topics: readonly TopicSpec[]): Promise<void> {
  const admin = new Admin(base(connection));
  try {
    const existing = new Set(await admin.listTopics());
    for (const topic of topics) {
      if (existing.has(topic.name)) continue;
      try {
        await createTopic(admin, topic);
      } catch (error) {
        // Another process created it between the listing and now: the broker says so, though
        // a listing made at once may not show it yet.
        if (alreadyExists(error)) continue;
        if (!(await admin.listTopics()).includes(topic.name)) throw error;
      }
    }
  } finally {
    await admin.close();
  }
}

/** Whether the broker refused to create a topic only because it exists (TOPIC_ALREADY_EXISTS, 36). */
function alreadyExists(error: unknown): boolean {
  const errors = (error as { errors?: unknown[] }).errors;
  return (
    Array.isArray(errors) &&
    errors.length > 0 &&
    errors.every((each) => (each as { apiId?: string }).apiId === "TOPIC_ALREADY_EXISTS")
  );
}

/** Deletes those of the topics that exist (asking to delete a missing one costs the client seconds of retries). */
export async function deleteTopics(connection: KafkaConnection, names: readonly string[]): Promise<void> {
  const admin = new Admin(base(connection));
  try {
    const existing = new Set(await admin.listTopics());
    const topics = names.filter((name) => existing.has(name));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.close();
  }
}

/** How many members each consumer group has now; a group the broker does not know has none. */
export async function groupMemberCounts(
  connection: KafkaConnection,
  groups: readonly string[],
): Promise<Map<string, number>> {
  if (groups.length === 0) return new Map();
  const admin = new Admin(base(connection));
  try {
    const described = await admin.describeGroups({ groups: [...groups] });
    return new Map(groups.map((group) => [group, described.get(group)?.members.size ?? 0]));
  } finally {
    await admin.close();
  }
}

/** Deletes consumer groups with no members (their committed offsets with them); unknown ones are skipped. */
export async function deleteGroups(connection: KafkaConnection, groups: readonly string[]): Promise<void> {
  if (groups.length === 0) return;
  const admin = new Admin(base(connection));
  try {
    const known = await admin.listGroups();
    const existing = groups.filter((group) => known.has(group));
    if (existing.length > 0) await admin.deleteGroups({ groups: existing });
  } finally {
    await admin.close();
  }
}

/**
 * Bytes of keys and values per produce request at most: even if every record of a request went to
 * one partition, its batch stays under the broker's 1 MB (message.max.bytes).
 */
const maxBytesPerRequest = 900_000;

/** The records in order, cut into runs of at most maxBytesPerRequest (and at least one record). */
function* chunks(records: readonly KafkaRecord[]): Generator<KafkaRecord[]> {
  let chunk: KafkaRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = record.key.byteLength + record.value.byteLength;
    if (chunk.length > 0 && bytes + size > maxBytesPerRequest) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(record);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

/** A view, not a copy: the client takes Buffers. */
const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * Sends of one turn of the event loop go out together (in requests of up to maxBytesPerRequest),
 * and one request is in flight at a time: records reach each partition in the order `send` was
 * called, and a busy producer sends fewer, larger requests. When a request fails, the sends of
 * its round are tried again one by one, so a send fails only for its own records (some of which
 * may have been written: at least once).
 */
export function openProducer(connection: KafkaConnection): KafkaProducer {
  // Idempotent: a retried send after a lost acknowledgement is not written twice. Retries are
  // bounded (the client retries an idempotent producer's sends forever unless told): a send to a
  // topic that is gone, or while the broker is, fails after about 5 s instead of never settling.
  const producer = new Producer({ ...base(connection), idempotent: true, acks: -1, retries: 10, retryDelay: 500 });
  let queued: { records: readonly KafkaRecord[]; resolve(): void; reject(error: unknown): void }[] = [];
  let flushing: Promise<void> | undefined;
  let closed = false;

  async function produce(records: readonly KafkaRecord[]): Promise<void> {
    for (const chunk of chunks(records)) {
      await producer.send({
        messages: chunk.map((r) => ({ topic: r.topic, key: asBuffer(r.key), value: asBuffer(r.value) })),
      });
    }
  }

  async function flush(): Promise<void> {
    await Promise.resolve();
    while (queued.length > 0) {
      const sends = queued;
      queued = [];
      try {
        await produce(sends.flatMap((send) => send.records));
        for (const send of sends) send.resolve();
      } catch (error) {
        if (sends.length === 1) {
          sends[0]!.reject(error);
          continue;
        }
        // One bad send (a topic that is gone) must not fail the others: each again, alone, in order.
        for (const send of sends) await produce(send.records).then(send.resolve, send.reject);
      }
    }
    flushing = undefined;
  }

  return {
    send(records) {
      if (closed) return Promise.reject(new Error("Kafka producer is closed"));
      if (records.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queued.push({ records, resolve, reject });
        flushing ??= flush();
      });
    },
    async close() {
      closed = true;
      await flushing;
      queued = [];
      await producer.close();
    },
  };
}

/** Joins groupId and reads topics from the group's committed offsets, or from the start for a new group. */
export async function subscribe(
  connection: KafkaConnection,
  options: { readonly groupId: string; readonly topics: readonly string[] },
): Promise<KafkaSubscription> {
  const consumer = new Consumer({ ...base(connection), ...membership(connection), groupId: options.groupId });
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

type KafkaMessage = Message<Buffer, Buffer, Buffer, Buffer>;
const empty = Buffer.alloc(0);

export interface BatchConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Where a group that has committed nothing on a partition starts reading it. */
  readonly from: "earliest" | "latest";
  /**
   * Handles what arrived, in offset order per partition. Offsets are committed only after it
   * resolves; when it throws, the same records are handed to it again after a pause.
   */
  readonly handle: (records: readonly ConsumedRecord[]) => Promise<void>;
  /** Records per call at most. */
  readonly maxBatch?: number;
  /** Told why the consumer is pausing (a failed handler, a lost connection) before it tries again. */
  readonly onError?: (error: unknown) => void;
  /**
   * Makes the consumer a static member of its group under this name (Kafka's `group.instance.id`):
   * started again under the same name, after a kill -9 say, it takes its predecessor's place and
   * partitions at once instead of after the dead member's session times out. One live member per
   * name: for a member named by something unique and stable, such as a gateway's id.
   */
  readonly instanceId?: string;
}

export interface BatchConsumer {
  /** Finishes the batch in hand, commits it, and leaves the group. */
  close(): Promise<void>;
}

/**
 * Joins a consumer group and hands its records to `handle` in batches, committing offsets after
 * each batch is handled: at least once. A batch holds what had arrived when the previous one was
 * done, so batches grow with the load.
 */
export async function consumeBatches(
  connection: KafkaConnection,
  options: BatchConsumerOptions,
): Promise<BatchConsumer> {
  const consumer = new Consumer({
    ...base(connection),
    ...membership(connection),
    groupId: options.groupId,
    ...(options.instanceId !== undefined && { groupInstanceId: options.instanceId }),
    maxWaitTime: 100,
  });
  const maxBatch = options.maxBatch ?? 1_000;
  const report = options.onError ?? ((error) => console.error(`Kafka consumer ${options.groupId}:`, error));
  const stopping = new AbortController();
  /** Waits ms, or less if the consumer stops meanwhile. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stopping.signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      stopping.signal.addEventListener("abort", done, { once: true });
    });
  const open = async () => {
    const opened = await consumer.consume({
      topics: [...options.topics],
      mode: "committed",
      fallbackMode: options.from,
      autocommit: false,
    });
    // Listening for "readable" for as long as the stream lives: the client stops fetching for a
    // stream nobody listens to, and would not start again when a listener came back.
    opened.on("error", report).on("readable", wake).on("close", wake);
    return opened;
  };
  let waiting: (() => void) | undefined;
  function wake(): void {
    waiting?.();
    waiting = undefined;
  }
  stopping.signal.addEventListener("abort", wake, { once: true });
  let stream = await open();

  /** Until the stream has records to read, closes, or the consumer stops. */
  const readable = () =>
    new Promise<void>((resolve) => {
      if (stopping.signal.aborted) resolve();
      else waiting = resolve;
    });

  /** What the stream holds already, up to maxBatch records. */
  function readBuffered(): KafkaMessage[] {
    const messages: KafkaMessage[] = [];
    while (messages.length < maxBatch) {
      const message = stream.read() as KafkaMessage | null;
      if (message === null) break;
      messages.push(message);
    }
    return messages;
  }

  /** Hands one batch on until it is handled (or the consumer stops), then commits it. */
  async function handleUntilDone(messages: KafkaMessage[]): Promise<void> {
    const records = messages.map((m): ConsumedRecord => ({
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      // A record written without a key or value reads as empty, not undefined.
      key: m.key ?? empty,
      value: m.value ?? empty,
    }));
    for (let attempt = 1; ; attempt++) {
      try {
        await options.handle(records);
        break;
      } catch (error) {
        report(error);
        if (stopping.signal.aborted) return;
        await pause(Math.min(100 * 2 ** (attempt - 1), 5_000));
        if (stopping.signal.aborted) return;
      }
    }
    // The last record of each partition commits everything before it there.
    const last = new Map<string, KafkaMessage>();
    for (const m of messages) last.set(`${m.topic}:${m.partition}`, m);
    await Promise.all(
      [...last.values()].map(async (m) => {
        try {
          await m.commit();
        } catch (error) {
          // Most likely the partition moved to another member, which reads it again from the last commit.
          report(error);
        }
      }),
    );
  }

  async function run(): Promise<void> {
    while (!stopping.signal.aborted) {
      const messages = readBuffered();
      if (messages.length > 0) {
        await handleUntilDone(messages);
        continue;
      }
      if (stream.destroyed || stream.readableEnded) {
        // The client gives up a stream on a failed fetch: read on through a new one, from the commits.
        if (stopping.signal.aborted) break;
        await pause(500);
        if (stopping.signal.aborted) break;
        try {
          stream = await open();
        } catch (error) {
          report(error);
        }
        continue;
      }
      await readable();
    }
  }

  const running = run().catch((error: unknown) => report(error));
  return {
    async close() {
      stopping.abort();
      await running;
      await stream.close().catch(() => undefined);
      await consumer.close(true);
    },
  };
}
