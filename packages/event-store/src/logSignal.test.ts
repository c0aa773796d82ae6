import { randomBytes } from "node:crypto";
import { after, test } from "node:test";
import { openDatabase, type Database } from "@sluice/database";
import { postgresTestUrl, testBackends } from "@sluice/database/testing";
import { startConsumer } from "./consumers/startConsumer";
import { createEventStore } from "./eventStore";
import { accepted, metadata, newId, orderCreated } from "./testing/fixtures";

const onServer = (await testBackends()).find((backend) => backend.name === "postgres")!;
const schema = `log_signal_${randomBytes(6).toString("hex")}`;
const opened: Database[] = [];
after(async () => {
  await Promise.all(opened.map((db) => db.close()));
  const admin = await openDatabase({ kind: "postgres", url: postgresTestUrl, maxConnections: 1 });
  await admin.exec(`drop schema if exists ${schema} cascade`);
  await admin.close();
});

test(
  "a consumer in one process is woken by another process's appends, not by its poll",
  { skip: onServer.skip, timeout: 60_000 },
  async () => {
    // Two pools on one schema: two processes, as far as the server can tell.
    const open = () => openDatabase({ kind: "postgres", url: postgresTestUrl, schema, maxConnections: 2 });
    const [here, there] = await Promise.all([open(), open()]);
    opened.push(here, there);
    // Polls every ten minutes: only the other process's word brings its appends within the timeout.
    const sleepy = await createEventStore(here, { pollIntervalMs: 600_000 });
    const writer = await createEventStore(there, { pollIntervalMs: 600_000 });
    const org = newId();
    let arrived!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const consumer = startConsumer(here, sleepy, {
      name: `signal-${newId()}`,
      handle: async (events) => {
        if (events.some((event) => event.organizationId === org)) arrived();
      },
    });
    await consumer.caughtUp();
    // Appends go on until one is seen: a transaction open elsewhere on the server (another test)
    // may hide a commit from readers until it ends; the next append's word then finds it.
    let appending = true;
    const appends = (async () => {
      while (appending) {
        await writer.append({
          organizationId: org,
          metadata: metadata(),
          appends: [
            {
              streamId: newId(),
              streamType: "dispatch.order",
              expectedVersion: "no_stream",
              events: [orderCreated(org)],
            },
          ],
          result: accepted(),
        });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    // Not a measure of speed: without the word the consumer would sleep ten minutes, and a test
    // that fails must still stop its appends and its consumer.
    let deadline: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<never>((_, reject) => {
      deadline = setTimeout(() => reject(new Error("the other process's appends never woke the consumer")), 30_000);
    });
    try {
      await Promise.race([arrival, gaveUp]);
    } finally {
      clearTimeout(deadline);
      appending = false;
      await appends;
      await consumer.stop();
    }
  },
);
