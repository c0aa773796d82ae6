import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Database, Queryable } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import { createEventStore } from "../eventStore";
import { accepted, metadata, newId, newOrder, orderEdited } from "../testing/fixtures";
import type { EventStore, RecordedEvent } from "../types";
import { combineProjections, startProjection, type Projection } from "./projection";
import { startConsumer } from "./startConsumer";

for (const backend of await testBackends()) {
  describe(`consumers on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;
    let store: EventStore;
    before(async () => {
      db = await backend.open();
      store = await createEventStore(db);
    });
    after(() => db?.close());

    const append = (organizationId: string, streamId: string, count: number, via = store) =>
      via.append({
        organizationId,
        metadata: metadata(),
        appends: [
          {
            streamId,
            streamType: "dispatch.order",
            expectedVersion: "any",
            events: Array.from({ length: count }, (_, i) => orderEdited(streamId, `c${i}`)),
          },
        ],
        result: accepted(),
      });

    /** Counts each organization's events into a table: a duplicate or a lost event shows. */
    const eventCounter = (name: string): Projection => ({
      name,
      migrations: [
        {
          id: `test-${name}/001`,
          sql: `create table "${name}" (event_id uuid primary key, organization_id text not null)`,
        },
      ],
      async handle(tx: Queryable, events: readonly RecordedEvent[]) {
        for (const event of events) {
          await tx.query(`insert into "${name}" (event_id, organization_id) values ($1, $2)`, [
            event.eventId,
            event.organizationId,
          ]);
        }
      },
    });
    const counted = async (name: string, org: string) =>
      (await db.query<{ n: bigint }>(`select count(*) as n from "${name}" where organization_id = $1`, [org])).rows[0]!
        .n;

    // PGlite only: on a server, a transaction open elsewhere (another test file, another process)
    // may hide a committed append from the log's readers until it ends, which only a poll notices.
    const inProcessOnly = backend.name === "pglite" ? test : undefined;
    inProcessOnly?.(
      "an append committed while a batch is handled wakes the consumer, not the next poll",
      { timeout: 60_000 },
      async () => {
        // Polls every ten minutes: only the in-process wake-up brings the second event within the timeout.
        const sleepy = await createEventStore(db, { pollIntervalMs: 600_000 });
        const org = newId();
        const [first, second] = [newId(), newId()];
        let secondSeen!: () => void;
        const done = new Promise<void>((resolve) => (secondSeen = resolve));
        const consumer = startConsumer(db, sleepy, {
          name: `wake-${newId()}`,
          async afterCommit(events) {
            const mine = events.filter((e) => e.organizationId === org).map((e) => e.streamId);
            // Appended after this batch was read, before the consumer waits again.
            if (mine.includes(first)) await append(org, second, 1, sleepy);
            if (mine.includes(second)) secondSeen();
          },
        });
        try {
          await append(org, first, 1, sleepy);
          await done;
        } finally {
          await consumer.stop();
        }
      },
    );

    test("a lingering consumer takes what commits while it waits in one batch; caughtUp() cuts the wait short", async () => {
      const org = newId();
      const batches: number[] = [];
      // No poll: a poll's read in the instant of the first append would take it alone.
      const unpolled = await createEventStore(db, { pollIntervalMs: 600_000 });
      const consumer = startConsumer(db, unpolled, {
        name: `linger-${newId()}`,
        // Longer than the test may run: only caughtUp() ends a wait.
        lingerMs: 600_000,
        handle: async (events) => {
          const mine = events.filter((e) => e.organizationId === org).length;
          if (mine > 0) batches.push(mine);
        },
      });
      try {
        await consumer.caughtUp();
        // Woken by the first, it waits; the other two commit meanwhile and join its batch.
        await append(org, newId(), 1, unpolled);
        await append(org, newId(), 2, unpolled);
        await consumer.caughtUp();
        assert.deepEqual(batches, [3]);
      } finally {
        await consumer.stop();
      }
    });

    test("a projection applies each event exactly once, across a restart", async () => {
      const name = `counter_${newId().slice(0, 8)}`;
      const org = newId();
      await append(org, newId(), 3);
      const first = await startProjection(db, store, eventCounter(name), { batchSize: 2 });
      await append(org, newId(), 2);
      await first.caughtUp();
      assert.equal(await counted(name, org), 5n);
      await first.stop();

      await append(org, newId(), 4);
      const second = await startProjection(db, store, eventCounter(name), { batchSize: 2 });
      try {
        await second.caughtUp();
        // The primary key on event_id would have failed a redelivered batch; the count shows none was lost.
        assert.equal(await counted(name, org), 9n);
      } finally {
        await second.stop();
      }
    });

    test("combined projections apply each event exactly once, taking over their own checkpoints, across restarts", async () => {
      const [a, b, c] = [1, 2, 3].map(() => `combined_${newId().slice(0, 8)}`) as [string, string, string];
      const org = newId();
      const checkpoints = async () =>
        (
          await db.query<{ name: string }>(
            "select name from consumer_checkpoints where name in ($1, $2, $3) order by name",
            [`projection:${a}`, `projection:${b}`, `projection:${c}`],
          )
        ).rows.map((row) => row.name);

      // a and b ran on their own before, a further along than b; c is new.
      await append(org, newId(), 3);
      const aAlone = await startProjection(db, store, eventCounter(a));
      const bAlone = await startProjection(db, store, eventCounter(b));
      await Promise.all([aAlone.caughtUp(), bAlone.caughtUp()]);
      await bAlone.stop();
      await append(org, newId(), 2);
      await aAlone.caughtUp();
      await aAlone.stop();
      await append(org, newId(), 4);

      const combined = () => combineProjections(`combined-${a}`, [eventCounter(a), eventCounter(b), eventCounter(c)]);
      const first = await startProjection(db, store, combined(), { batchSize: 2 });
      await first.caughtUp();
      await first.stop();
      // The primary key on event_id would have failed an event applied twice; the counts show none was lost.
      for (const name of [a, b, c]) assert.equal(await counted(name, org), 9n, name);
      assert.deepEqual(await checkpoints(), [], "the members' own checkpoints are gone once passed");

      await append(org, newId(), 2);
      const second = await startProjection(db, store, combined(), { batchSize: 2 });
      try {
        await second.caughtUp();
        for (const name of [a, b, c]) assert.equal(await counted(name, org), 11n, name);
      } finally {
        await second.stop();
      }
    });

    test("a failing member rolls back the whole combined batch, which is retried", async () => {
      const [a, b] = [1, 2].map(() => `combofail_${newId().slice(0, 8)}`) as [string, string];
      const org = newId();
      const failing = eventCounter(b);
      let calls = 0;
      const consumer = await startProjection(
        db,
        store,
        combineProjections(`combined-${a}`, [
          eventCounter(a),
          {
            ...failing,
            async handle(tx, events) {
              if (events.some((e) => e.organizationId === org) && ++calls <= 1) throw new Error("member failed");
              await failing.handle(tx, events);
            },
          },
        ]),
        { retryDelayMs: { initial: 1, max: 2 }, onError: () => {} },
      );
      try {
        await append(org, newId(), 3);
        await consumer.caughtUp();
        assert.equal(calls, 2);
        assert.equal(await counted(a, org), 3n);
        assert.equal(await counted(b, org), 3n);
      } finally {
        await consumer.stop();
      }
    });

    test("a handler that writes nothing gets every event in log order, batch by batch, and resumes after its checkpoint", async () => {
      const name = `sink-${newId()}`;
      const org = newId();
      const stream = newId();
      const seen: RecordedEvent[] = [];
      const batchSizes: number[] = [];
      const collect = async (events: readonly RecordedEvent[]) => {
        batchSizes.push(events.length);
        seen.push(...events.filter((e) => e.organizationId === org));
      };
      const consumer = startConsumer(db, store, { name, batchSize: 3, handle: collect });
      const { lastGlobalPosition } = await append(org, stream, 7);
      await consumer.caughtUp(lastGlobalPosition);
      assert.deepEqual(
        seen.map((e) => e.streamVersion),
        [1n, 2n, 3n, 4n, 5n, 6n, 7n],
      );
      assert.ok(batchSizes.every((size) => size >= 1 && size <= 3));
      await consumer.stop();

      await append(org, stream, 1);
      const resumed = startConsumer(db, store, { name, batchSize: 3, handle: collect });
      try {
        await resumed.caughtUp();
        assert.deepEqual(
          seen.map((e) => e.streamVersion),
          [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n],
        );
      } finally {
        await resumed.stop();
      }
    });

    test("a failing batch is rolled back, reported and retried, never skipped", async () => {
      const name = `retry_${newId().slice(0, 8)}`;
      const org = newId();
      const projection = eventCounter(name);
      const failures: number[] = [];
      let calls = 0;
      const consumer = await startProjection(
        db,
        store,
        {
          ...projection,
          async handle(tx, events) {
            await projection.handle(tx, events);
            if (events.some((e) => e.organizationId === org) && ++calls <= 2) throw new Error("projection failed");
          },
        },
        { retryDelayMs: { initial: 1, max: 2 }, onError: (_error, attempt) => failures.push(attempt) },
      );
      try {
        await append(org, newId(), 2);
        await consumer.caughtUp();
        assert.deepEqual(failures, [1, 2]);
        assert.equal(await counted(name, org), 2n);
      } finally {
        await consumer.stop();
      }
    });

    test("two instances of one consumer share the work: every event is applied once", async () => {
      const name = `shared_${newId().slice(0, 8)}`;
      const org = newId();
      await startProjection(db, store, eventCounter(name)).then((c) => c.stop()); // creates the table
      const instances = await Promise.all(
        [1, 2].map(() => startProjection(db, store, eventCounter(name), { batchSize: 2 })),
      );
      try {
        await Promise.all([append(org, newId(), 5), append(org, newId(), 4)]);
        await Promise.all(instances.map((instance) => instance.caughtUp()));
        assert.equal(await counted(name, org), 9n);
      } finally {
        await Promise.all(instances.map((instance) => instance.stop()));
      }
    });

    test("appends made elsewhere (another store, as another process would) are seen by polling", async () => {
      const org = newId();
      const polling = await createEventStore(db, { pollIntervalMs: 20 });
      const elsewhere = await createEventStore(db);
      let arrived!: (event: RecordedEvent) => void;
      const arrival = new Promise<RecordedEvent>((resolve) => (arrived = resolve));
      const consumer = startConsumer(db, polling, {
        name: `poll-${newId()}`,
        handle: async (events) => events.filter((e) => e.organizationId === org).forEach(arrived),
      });
      try {
        await consumer.caughtUp();
        // No caughtUp from here: only the poll can wake the consumer, this store never learns of the append.
        await elsewhere.append(newOrder(org));
        assert.equal((await arrival).organizationId, org);
      } finally {
        await consumer.stop();
      }
    });

    test("caughtUp rejects once the consumer is stopped", async () => {
      const consumer = startConsumer(db, store, { name: `stopped-${newId()}`, handle: async () => {} });
      await consumer.stop();
      await assert.rejects(consumer.caughtUp(), /stopped/);
    });
  });
}
