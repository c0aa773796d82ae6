import { after, test } from "node:test";
import { oneSchemaManyProcesses, testBackends } from "@sluice/database/testing";
import { startConsumer } from "./consumers/startConsumer";
import { createEventStore } from "./eventStore";
import { newId, newOrder } from "./testing/fixtures";

const onServer = (await testBackends()).find((backend) => backend.name === "postgres")!;
const deployment = oneSchemaManyProcesses("log_signal");
after(() => deployment.cleanUp());

test(
  "a consumer in one process is woken by another process's appends, not by its poll",
  { skip: onServer.skip, timeout: 60_000 },
  async () => {
    const [here, there] = await Promise.all([deployment.open(), deployment.open()]);
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
        await writer.append(newOrder(org));
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
