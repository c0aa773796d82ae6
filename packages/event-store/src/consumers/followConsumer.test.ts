import assert from "node:assert/strict";
import { after, test } from "node:test";
import { oneSchemaManyProcesses, testBackends } from "@sluice/database/testing";
import { createEventStore } from "../eventStore";
import { newId, newOrder } from "../testing/fixtures";
import { followConsumer } from "./followConsumer";
import { startConsumer } from "./startConsumer";

const onServer = (await testBackends()).find((backend) => backend.name === "postgres")!;
const deployment = oneSchemaManyProcesses("follow");
after(() => deployment.cleanUp());
const open = () => deployment.open(3);

test(
  "another process's caughtUp waits for the consumer to hold what committed before it",
  { skip: onServer.skip, timeout: 60_000 },
  async () => {
    // The consumer's process and the querying process: two pools on one schema.
    const [consumerDb, queryDb] = await Promise.all([open(), open()]);
    const consumerStore = await createEventStore(consumerDb);
    const queryStore = await createEventStore(queryDb);
    await consumerDb.exec("create table followed (stream_id text primary key)");
    const name = `followed-${newId()}`;
    // A slow handler: without waiting for it, a read right after the append finds nothing.
    const consumer = startConsumer(consumerDb, consumerStore, {
      name,
      announce: true,
      async handle(events, tx) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        for (const event of events) await tx.query("insert into followed values ($1)", [event.streamId]);
      },
    });
    // maxWaitMs far above the test's: only the consumer's progress can end the wait in time.
    const followed = await followConsumer(queryDb, name, { maxWaitMs: 600_000, pollMs: 600_000 });
    try {
      await consumer.caughtUp();
      for (let round = 0; round < 3; round++) {
        const org = newId();
        const streamId = newId();
        await queryStore.append(newOrder(org, streamId));
        await followed.caughtUp();
        const { rows } = await queryDb.query("select 1 from followed where stream_id = $1", [streamId]);
        assert.equal(rows.length, 1, `round ${round}: the read after caughtUp sees the append`);
      }
    } finally {
      await followed.stop();
      await consumer.stop();
    }
  },
);

test(
  "caughtUp gives up waiting after maxWaitMs when the consumer is not running",
  { skip: onServer.skip },
  async () => {
    const db = await open();
    const store = await createEventStore(db);
    const org = newId();
    await store.append(newOrder(org));
    const followed = await followConsumer(db, `nobody-${newId()}`, { maxWaitMs: 100, pollMs: 20 });
    try {
      // Resolves (a query is answered, a little stale) rather than hanging on a projector that is down.
      await followed.caughtUp();
    } finally {
      await followed.stop();
    }
  },
);
