// The outbox relay to Kafka (issue 5): how many events per second one process hands from the
// PostgreSQL event store's log to KafkaEventBus, and whether they arrive in order per stream.
//
//   npm run outbox-relay -w @sluice/bench [-- --events 50000 --batch-sizes 100,1000 --partitions 12]
//
// For each batch size: a fresh database is filled with Dispatch-like histories (projects, orders,
// routes; fillDispatchLog), then startOutbox relays the whole log to fresh topics and the time to
// caughtUp() gives events/s (the relay's drain rate: the most it can sustain). Then a new
// consumer group reads the topic back and checks that every event came, each stream's in version
// order; how fast it reads (events/s, decoding included) is reported too.
// Results: bench/results/outbox-relay.json.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { startOutbox, type EventBus } from "@sluice/bus";
import { KafkaEventBus } from "@sluice/bus/kafka";
import { openDatabase } from "@sluice/database";
import { createEventStore, type RecordedEvent } from "@sluice/event-store";
import { deleteTopics } from "@sluice/kafka";
import { kafkaTestConnection } from "@sluice/kafka/testing";
import { fillDispatchLog } from "../../apps/server/src/cli/dispatchHistory";
import { createFreshDatabase } from "./event-store/databases";

const { values: args } = parseArgs({
  options: {
    events: { type: "string", default: "50000" },
    "batch-sizes": { type: "string", default: "100,1000" },
    partitions: { type: "string", default: "12" },
  },
});
const eventCount = Number(args.events);
const partitions = Number(args.partitions);

async function run(batchSize: number) {
  const fresh = await createFreshDatabase("outbox_relay");
  const db = await openDatabase({ kind: "postgres", url: fresh.url });
  const options = {
    connection: { ...kafkaTestConnection, clientId: "bench" },
    contexts: ["dispatch"],
    topicPrefix: `bench-${randomBytes(4).toString("hex")}.`,
    partitions,
  };
  const bus = await KafkaEventBus.open(options);
  try {
    const store = await createEventStore(db);
    const appended = await fillDispatchLog(store, [randomUUID()], eventCount, 32);

    const started = performance.now();
    // Time spent publishing (encode, produce, acknowledgement), apart from reading the log and checkpointing.
    let publishMs = 0;
    const timed: EventBus = {
      publish: async (events) => {
        const start = performance.now();
        await bus.publish(events);
        publishMs += performance.now() - start;
      },
      subscribe: (group, handler) => bus.subscribe(group, handler),
      close: () => bus.close(),
    };
    const outbox = startOutbox(db, store, timed, { name: "outbox", batchSize });
    await outbox.caughtUp();
    const seconds = (performance.now() - started) / 1000;
    await outbox.stop();

    // Read back by a new group: everything, and each stream's events in version order.
    const last = new Map<string, bigint>();
    let heard = 0;
    let outOfOrder = 0;
    let allHeard = () => {};
    const everything = new Promise<void>((resolve) => (allHeard = resolve));
    const readStarted = performance.now();
    const leave = bus.subscribe(`verify-${randomUUID()}`, (events: readonly RecordedEvent[]) => {
      for (const event of events) {
        if (event.streamVersion !== (last.get(event.streamId) ?? 0n) + 1n) outOfOrder++;
        last.set(event.streamId, event.streamVersion);
      }
      heard += events.length;
      if (heard >= appended) allHeard();
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`read back ${heard} of ${appended} in 60 s`)), 60_000);
    });
    await Promise.race([everything, timeout]).finally(() => clearTimeout(timer));
    const readSeconds = (performance.now() - readStarted) / 1000;
    leave();
    const result = {
      batchSize,
      events: appended,
      streams: last.size,
      seconds: Math.round(seconds * 100) / 100,
      eventsPerSecond: Math.round(appended / seconds),
      publishShare: Math.round((publishMs / 1000 / seconds) * 100) / 100,
      readBack: heard,
      // A new group's whole read, its join included: what one member takes in (decode included).
      readBackPerSecond: Math.round(heard / readSeconds),
      outOfOrder,
    };
    console.log(JSON.stringify(result));
    return result;
  } finally {
    await bus.close();
    await db.close();
    await fresh.drop();
    await deleteTopics(options.connection, [`${options.topicPrefix}dispatch.events`]);
  }
}

const results = [];
for (const batchSize of args["batch-sizes"].split(",").map(Number)) results.push(await run(batchSize));
const report = {
  at: new Date().toISOString(),
  loadAverage: loadavg().map((n) => Math.round(n * 100) / 100),
  settings: { events: eventCount, partitions },
  results,
};
mkdirSync(new URL("../results/", import.meta.url), { recursive: true });
writeFileSync(new URL("../results/outbox-relay.json", import.meta.url), JSON.stringify(report, null, 2) + "\n");
console.log(`load average ${report.loadAverage.join(" ")}`);
