import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { CommandAcceptedSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderEditedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { openDatabase, type Database } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import { createEventStore, type EventStore, type RecordedEvent } from "@sluice/event-store";
import type { EventBus } from "./event-bus";
import { InProcessEventBus } from "./in-process-event-bus";
import { startOutbox } from "./outbox";
import { StreamVersions } from "./stream-versions";

function append(store: EventStore, organizationId: string, streamId: string, count: number) {
  return store.append({
    organizationId,
    metadata: { userId: "u-1", commandId: randomUUID(), correlationId: randomUUID() },
    appends: [
      {
        streamId,
        streamType: "dispatch.order",
        expectedVersion: "any",
        events: Array.from({ length: count }, (_, i) =>
          create(OrderEditedSchema, { orderId: streamId, projectId: "p-1", consignee: `v${i}`, address: "a" }),
        ),
      },
    ],
    result: create(CommandAcceptedSchema, {}),
  });
}

/** Collects one organization's events as a consumer group hears them, duplicates included. */
function listen(bus: EventBus, organizationId: string): RecordedEvent[] {
  const heard: RecordedEvent[] = [];
  bus.subscribe(`test-${randomUUID()}`, (events) => {
    heard.push(...events.filter((event) => event.organizationId === organizationId));
  });
  return heard;
}

/** A bus whose broker is down: nothing it is handed gets anywhere. */
const unreachableBus: EventBus = {
  publish: () => Promise.reject(new Error("broker unreachable")),
  subscribe: () => () => {},
  close: async () => {},
};

const positions = (events: readonly RecordedEvent[]) => events.map((event) => event.globalPosition);

for (const backend of await testBackends()) {
  describe(`the outbox on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;
    let store: EventStore;
    before(async () => {
      db = await backend.open();
      store = await createEventStore(db);
    });
    after(() => db?.close());

    test("hands every committed event to the bus, in log order, each once", async () => {
      const bus = new InProcessEventBus();
      const org = randomUUID();
      const heard = listen(bus, org);
      const outbox = startOutbox(db, store, bus, { name: `outbox-${randomUUID()}` });
      try {
        const streams = [randomUUID(), randomUUID(), randomUUID()];
        const results = await Promise.all(
          Array.from({ length: 30 }, (_, i) => append(store, org, streams[i % 3]!, 1 + (i % 2))),
        );
        await outbox.caughtUp();
        const appended = results.flatMap((result) => result.events);
        assert.deepEqual(
          positions(heard),
          positions(appended).sort((a, b) => (a < b ? -1 : 1)),
        );
        for (const streamId of streams) {
          const versions = heard.filter((e) => e.streamId === streamId).map((e) => e.streamVersion);
          assert.deepEqual(
            versions,
            versions.map((_, i) => BigInt(i + 1)),
            `${streamId} in stream order`,
          );
        }
      } finally {
        await outbox.stop();
      }
    });

    test("events committed while the bus was unreachable go once it is back; a clean restart repeats nothing", async () => {
      const name = `outbox-${randomUUID()}`;
      const org = randomUUID();
      const first = startOutbox(db, store, unreachableBus, { name });
      const results = [await append(store, org, randomUUID(), 2), await append(store, org, randomUUID(), 1)];
      // The process dies here: committed, never published.
      await first.stop();

      const bus = new InProcessEventBus();
      const heard = listen(bus, org);
      const second = startOutbox(db, store, bus, { name });
      await second.caughtUp();
      await append(store, org, randomUUID(), 1);
      await second.caughtUp();
      await second.stop();
      const appended = results.flatMap((result) => result.events);
      assert.deepEqual(positions(heard).slice(0, 3), positions(appended));
      assert.equal(heard.length, 4);

      const third = startOutbox(db, store, bus, { name });
      await third.caughtUp();
      await third.stop();
      assert.equal(heard.length, 4, "a relay stopped cleanly saved how far it got");
    });
  });
}

test("a crash between append and publication loses nothing: PGlite reopened from its data dir", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sluice-outbox-"));
  try {
    const org = randomUUID();
    const crashed = await openDatabase({ kind: "pglite", dataDir: dir });
    const crashedStore = await createEventStore(crashed);
    const bus = new InProcessEventBus();
    const heardBefore = listen(bus, org);
    const outbox = startOutbox(crashed, crashedStore, bus, { name: "outbox", checkpointIntervalMs: 60_000 });
    await outbox.caughtUp();
    const appended = [
      ...(await append(crashedStore, org, randomUUID(), 3)).events,
      ...(await append(crashedStore, org, randomUUID(), 2)).events,
    ];
    await outbox.caughtUp();
    assert.equal(heardBefore.length, 5);
    // Killed before its checkpoint was written (it writes once a minute here): no stop(), no save.
    await crashed.close();

    const reopened = await openDatabase({ kind: "pglite", dataDir: dir });
    try {
      const store = await createEventStore(reopened);
      const restartedBus = new InProcessEventBus();
      const heard = listen(restartedBus, org);
      const deduplicated: RecordedEvent[] = [];
      const seen = new StreamVersions();
      restartedBus.subscribe("deduplicating", (events) => {
        deduplicated.push(...events.filter((event) => event.organizationId === org && seen.isNew(event)));
      });
      for (const event of heardBefore) seen.isNew(event);
      const restarted = startOutbox(reopened, store, restartedBus);
      await restarted.caughtUp();
      await restarted.stop();
      assert.deepEqual(positions(heard), positions(appended), "handed on again, at least once, in order");
      assert.deepEqual(deduplicated, [], "a consumer that had them drops them by stream and version");
    } finally {
      await reopened.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("StreamVersions keeps what is new in each stream and forgets the least recent streams first", () => {
  const versions = new StreamVersions(2);
  assert.equal(versions.isNew({ streamId: "a", streamVersion: 1n }), true);
  assert.equal(versions.isNew({ streamId: "a", streamVersion: 1n }), false);
  assert.equal(versions.isNew({ streamId: "b", streamVersion: 5n }), true);
  assert.equal(versions.isNew({ streamId: "a", streamVersion: 2n }), true);
  assert.equal(versions.isNew({ streamId: "c", streamVersion: 1n }), true);
  // b was the least recent of three and went; a duplicate of it gets through, a's does not.
  assert.equal(versions.isNew({ streamId: "b", streamVersion: 5n }), true);
  assert.equal(versions.isNew({ streamId: "a", streamVersion: 2n }), true, "a went when b came back");
  assert.equal(versions.isNew({ streamId: "b", streamVersion: 5n }), false);
});
