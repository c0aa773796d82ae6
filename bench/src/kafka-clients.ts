// The Kafka client choice (decision 0011): kafkajs 2.2.4 against @platformatic/kafka 1.35 on the
// local broker (scripts/kafka.sh), each measured the same three ways, one client at a time:
//
// - produce: batches of small records (100 bytes), acks from all in-sync replicas, idempotent
//   producer, one batch in flight (the way our producer keeps per-key order), for --seconds;
// - consume: a new consumer group reads everything the produce phase wrote, from the start;
// - round trip: one record at a time from producer to a consumer group member, p50/p99.
//
//   npm run kafka-clients -w @sluice/bench [-- --seconds 4 --batch 100 --round-trips 300 --partitions 6]
//
// Results: bench/results/kafka-clients.json.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { Admin, Consumer, Producer } from "@platformatic/kafka";
import { Kafka, logLevel } from "kafkajs";
import { percentiles } from "./percentiles";

const { values: args } = parseArgs({
  options: {
    brokers: { type: "string", default: "127.0.0.1:9092" },
    seconds: { type: "string", default: "4" },
    batch: { type: "string", default: "100" },
    "round-trips": { type: "string", default: "300" },
    partitions: { type: "string", default: "6" },
    clients: { type: "string", default: "platformatic,kafkajs" },
  },
});
const brokers = args.brokers.split(",");
const seconds = Number(args.seconds);
const batchSize = Number(args.batch);
const roundTrips = Number(args["round-trips"]);
const partitions = Number(args.partitions);
const payload = randomBytes(100);

/** What one client does in each phase; each call measures one phase on fresh topics and groups. */
interface Client {
  readonly name: string;
  /** Sends batches for `forMs`; returns how many records were acknowledged. */
  produce(topic: string, forMs: number): Promise<number>;
  /** Reads `count` records from the start of the topic in a new group; returns when it has. */
  consume(topic: string, count: number): Promise<void>;
  /** One record at a time, sent after the previous one arrived; the latencies in ms. */
  roundTrips(topic: string, count: number): Promise<number[]>;
}

const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;
const keyOf = (i: number) => Buffer.from(`stream-${i % 1000}`);

const platformatic: Client = {
  name: "@platformatic/kafka 1.35.0",
  async produce(topic, forMs) {
    const producer = new Producer({ clientId: "bench", bootstrapBrokers: brokers, idempotent: true, acks: -1 });
    let sent = 0;
    const until = performance.now() + forMs;
    try {
      while (performance.now() < until) {
        const messages = Array.from({ length: batchSize }, (_, i) => ({ topic, key: keyOf(sent + i), value: payload }));
        await producer.send({ messages });
        sent += batchSize;
      }
    } finally {
      await producer.close();
    }
    return sent;
  },
  async consume(topic, count) {
    const consumer = new Consumer({ clientId: "bench", bootstrapBrokers: brokers, groupId: unique("bench") });
    const stream = await consumer.consume({ topics: [topic], mode: "earliest", autocommit: 1000 });
    let seen = 0;
    try {
      // Read as a stream ('data'), the client's fastest way; its async iterator costs more per record.
      await new Promise<void>((resolve, reject) => {
        stream.on("data", () => {
          if (++seen === count) resolve();
        });
        stream.once("error", reject);
      });
    } finally {
      await stream.close();
      await consumer.close();
    }
  },
  async roundTrips(topic, count) {
    const producer = new Producer({ clientId: "bench", bootstrapBrokers: brokers, idempotent: true, acks: -1 });
    const consumer = new Consumer({ clientId: "bench", bootstrapBrokers: brokers, groupId: unique("bench") });
    const stream = await consumer.consume({ topics: [topic], mode: "earliest", autocommit: 1000, maxWaitTime: 100 });
    const latencies: number[] = [];
    const iterator = stream[Symbol.asyncIterator]();
    try {
      for (let i = 0; i < count; i++) {
        const start = performance.now();
        await producer.send({ messages: [{ topic, key: keyOf(i), value: payload }] });
        await iterator.next();
        latencies.push(performance.now() - start);
      }
    } finally {
      await stream.close();
      await consumer.close();
      await producer.close();
    }
    return latencies;
  },
};

const kafka = new Kafka({ clientId: "bench", brokers, logLevel: logLevel.NOTHING });

const kafkajs: Client = {
  name: "kafkajs 2.2.4",
  async produce(topic, forMs) {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let sent = 0;
    const until = performance.now() + forMs;
    try {
      while (performance.now() < until) {
        const messages = Array.from({ length: batchSize }, (_, i) => ({ key: keyOf(sent + i), value: payload }));
        await producer.send({ topic, acks: -1, messages });
        sent += batchSize;
      }
    } finally {
      await producer.disconnect();
    }
    return sent;
  },
  async consume(topic, count) {
    const consumer = kafka.consumer({ groupId: unique("bench") });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let seen = 0;
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            seen += batch.messages.length;
            if (seen >= count) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
  },
  async roundTrips(topic, count) {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const consumer = kafka.consumer({ groupId: unique("bench"), maxWaitTimeInMs: 100 });
    await Promise.all([producer.connect(), consumer.connect()]);
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let arrived: () => void = () => {};
    await consumer.run({ eachMessage: async () => arrived() });
    const latencies: number[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const start = performance.now();
        const heard = new Promise<void>((resolve) => (arrived = resolve));
        await producer.send({ topic, acks: -1, messages: [{ key: keyOf(i), value: payload }] });
        await heard;
        latencies.push(performance.now() - start);
      }
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
    return latencies;
  },
};

const admin = new Admin({ clientId: "bench", bootstrapBrokers: brokers });
const created: string[] = [];
async function freshTopic(partitionCount: number): Promise<string> {
  const topic = unique("bench");
  await admin.createTopics({ topics: [topic], partitions: partitionCount, replicas: 1 });
  created.push(topic);
  return topic;
}

const round = (n: number) => Math.round(n * 10) / 10;
const results = [];
try {
  const byName: Record<string, Client> = { platformatic, kafkajs };
  for (const client of args.clients.split(",").map((name) => byName[name]!)) {
    const topic = await freshTopic(partitions);
    let start = performance.now();
    const produced = await client.produce(topic, seconds * 1000);
    const produceSeconds = (performance.now() - start) / 1000;
    start = performance.now();
    await client.consume(topic, produced);
    const consumeSeconds = (performance.now() - start) / 1000;
    const latencies = await client.roundTrips(await freshTopic(1), roundTrips);
    const { p50, p99 } = percentiles(latencies.slice(10), [50, 99]);
    const result = {
      client: client.name,
      producePerSecond: Math.round(produced / produceSeconds),
      consumePerSecond: Math.round(produced / consumeSeconds),
      records: produced,
      roundTripMs: { p50: round(p50!), p99: round(p99!) },
    };
    console.log(JSON.stringify(result));
    results.push(result);
  }
} finally {
  await admin.deleteTopics({ topics: created }).catch(() => {});
  await admin.close();
}

const run = {
  at: new Date().toISOString(),
  loadAverage: loadavg().map((n) => Math.round(n * 100) / 100),
  settings: { seconds, batchSize, recordBytes: payload.length, partitions, roundTrips },
  results,
};
mkdirSync(new URL("../results/", import.meta.url), { recursive: true });
writeFileSync(new URL("../results/kafka-clients.json", import.meta.url), JSON.stringify(run, null, 2) + "\n");
console.log(`load average ${run.loadAverage.join(" ")}`);
