import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, test } from "node:test";
import { openDatabase, type Database } from "@sluice/database";
import { postgresTestUrl, testBackends } from "@sluice/database/testing";
import { createEventStore } from "../eventStore";
import { accepted, metadata, newId, orderCreated } from "../testing/fixtures";
import { followConsumer } from "./followConsumer";
import { startConsumer } from "./startConsumer";

const onServer = (await testBackends()).find((backend) => backend.name === "postgres")!;
const schema = `follow_${randomBytes(6).toString("hex")}`;
const opened: Database[] = [];
after(async () => {
  await Promise.all(opened.map((db) => db.close()));
  const admin = await openDatabase({ kind: "postgres", url: postgresTestUrl, maxConnections: 1 });
  await admin.exec(`drop schema if exists ${schema} cascade`);
  await admin.close();
});
const open = async () => {
  const db = await openDatabase({ kind: "postgres", url: postgresTestUrl, schema, maxConnections: 3 });
  opened.push(db);
  return db;
};

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
        await queryStore.append({
          organizationId: org,
          metadata: metadata(),
          appends: [
            { streamId, streamType: "dispatch.order", expectedVersion: "no_stream", events: [orderCreated(org)] },
          ],
          result: accepted(),
        });
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
    await store.append({
      organizationId: org,
      metadata: metadata(),
      appends: [
        { streamId: newId(), streamType: "dispatch.order", expectedVersion: "no_stream", events: [orderCreated(org)] },
      ],
      result: accepted(),
    });
    const followed = await followConsumer(db, `nobody-${newId()}`, { maxWaitMs: 100, pollMs: 20 });
    try {
      // Resolves (a query is answered, a little stale) rather than hanging on a projector that is down.
      await followed.caughtUp();
    } finally {
      await followed.stop();
    }
  },
);
