import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { Database } from "@sluice/database";
import { oneSchemaManyProcesses, testBackends } from "@sluice/database/testing";
import { startConsumer } from "./consumers/startConsumer";
import { createEventStore } from "./eventStore";
import { startLogSignal } from "./logSignal";
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

test("commits in quick succession share notifications, and the last is always told", async () => {
  // Each notification is a durable commit of its own: a writer in sequence must not pay one per
  // append. Whatever is committed before a notification is sent is covered by it.
  const sentAt: number[] = [];
  const db = {
    listen: async () => async () => {},
    notify: async () => {
      sentAt.push(performance.now());
      await new Promise((resolve) => setTimeout(resolve, 1));
    },
  } as unknown as Database;
  const signal = await startLogSignal(db, () => {});
  const start = performance.now();
  while (performance.now() - start < 30) {
    signal.appended();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const lastAppendAt = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 20));
  // About one every 2 ms, not one per commit (hundreds in 30 ms)...
  assert.ok(sentAt.length >= 5 && sentAt.length <= 20, `${sentAt.length} notifications`);
  for (let i = 1; i < sentAt.length; i++)
    assert.ok(sentAt[i]! - sentAt[i - 1]! >= 1.9, `${sentAt[i]! - sentAt[i - 1]!} ms apart`);
  // ...and one sent after the last commit.
  assert.ok(sentAt.at(-1)! >= lastAppendAt - 3);
  const quietFrom = sentAt.length;
  await new Promise((resolve) => setTimeout(resolve, 10));
  signal.appended();
  await new Promise((resolve) => setTimeout(resolve, 5));
  // After a quiet spell, at once.
  assert.equal(sentAt.length, quietFrom + 1);
});
