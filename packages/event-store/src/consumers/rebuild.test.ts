import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Database, Queryable } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import { createEventStore } from "../eventStore";
import { accepted, metadata, newId, orderCreated, orderEdited } from "../testing/fixtures";
import type { EventStore, RecordedEvent } from "../types";
import { combineProjections, projectionCheckpointName, startProjection, type Projection } from "./projection";
import { findProjection, rebuildProjection } from "./rebuild";
import { RebuildConflictError, UnknownProjectionError } from "./rebuildErrors";
import type { RebuildProgress } from "./rebuildProgress";
import { rebuildSchemas } from "./rebuildSchema";

for (const backend of await testBackends()) {
  describe(`projection rebuild on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;
    let store: EventStore;
    before(async () => {
      db = await backend.open();
      store = await createEventStore(db);
    });
    after(() => db?.close());

    /** Appends `count` events to each of `streams` new streams: a creation, then edits. */
    async function appendOrders(org: string, streams: number, count: number): Promise<void> {
      for (let s = 0; s < streams; s++) {
        const streamId = newId();
        await store.append({
          organizationId: org,
          metadata: metadata(),
          appends: [
            {
              streamId,
              streamType: "dispatch.order",
              expectedVersion: "no_stream",
              events: Array.from({ length: count }, (_, i) =>
                i === 0 ? orderCreated(streamId, "c0") : orderEdited(streamId, `c${i}`),
              ),
            },
          ],
          result: accepted(),
        });
      }
    }

    /**
     * An order list (insert on creation, update on edit: the result depends on order) and an edit
     * count per organization (an upsert), in tables named after the projection.
     */
    const orderList = (name: string): Projection => ({
      name,
      migrations: [
        {
          id: `test-${name}/001`,
          sql: `create table "${name}_orders" (order_id text primary key, organization_id text not null,
                  consignee text not null, version bigint not null);
                create index "${name}_orders_by_org" on "${name}_orders" (organization_id);
                create table "${name}_edits" (organization_id text primary key, edits bigint not null)`,
        },
      ],
      async handle(tx: Queryable, events: readonly RecordedEvent[]) {
        for (const event of events) {
          const data = event.data as unknown as { orderId: string; consignee: string };
          if (event.type === "dispatch.v1.OrderCreated") {
            await tx.query(
              `insert into "${name}_orders" (order_id, organization_id, consignee, version) values ($1, $2, $3, $4)`,
              [data.orderId, event.organizationId, data.consignee, event.streamVersion],
            );
          } else if (event.type === "dispatch.v1.OrderEdited") {
            await tx.query(`update "${name}_orders" set consignee = $2, version = $3 where order_id = $1`, [
              data.orderId,
              data.consignee,
              event.streamVersion,
            ]);
            await tx.query(
              `insert into "${name}_edits" (organization_id, edits) values ($1, 1)
               on conflict (organization_id) do update set edits = "${name}_edits".edits + 1`,
              [event.organizationId],
            );
          }
        }
      },
    });

    const rowsOf = async (name: string) => ({
      orders: (await db.query(`select * from "${name}_orders" order by order_id`)).rows,
      edits: (await db.query(`select * from "${name}_edits" order by organization_id`)).rows,
    });
    const liveCheckpoint = async (name: string) =>
      (
        await db.query("select transaction_id, global_position from consumer_checkpoints where name = $1", [
          projectionCheckpointName(name),
        ])
      ).rows[0];
    // This rebuild's schemas only: other tests and processes rebuild in the same database meanwhile.
    const schemaExists = async (schema: string) =>
      (await db.query("select 1 from pg_namespace where nspname = $1", [schema])).rows.length > 0;

    test("a projection rebuilt while the live one runs and appends go on equals the live one, which continues on it", async () => {
      const name = `rb_${newId().slice(0, 8)}`;
      const org = newId();
      await appendOrders(org, 30, 5);
      const live = await startProjection(db, store, orderList(name), { batchSize: 7 });
      try {
        await live.caughtUp();
        const progress: RebuildProgress[] = [];
        let appendsDuring = Promise.resolve();
        const result = await rebuildProjection(db, store, orderList(name), {
          pageSize: 40,
          onProgress(p) {
            progress.push(p);
            // Appends land while pages are applied: the live consumer takes them, and so does the rebuild or the live one after the swap.
            if (p.phase === "building" && progress.length <= 3)
              appendsDuring = appendsDuring.then(() => appendOrders(org, 2, 3));
          },
        });
        await appendsDuring;
        assert.ok(result.events >= 150, `applied ${result.events}`);
        assert.deepEqual([...result.swapped].sort(), [`${name}_edits`, `${name}_orders`]);
        assert.equal(progress.at(-1)?.phase, "done");
        assert.ok(progress.some((p) => p.phase === "swapping"));
        assert.ok(progress.every((p) => p.eventsDone <= p.eventsTotal));

        // The live consumer carries on from the swapped checkpoint, on the swapped-in tables.
        await appendOrders(org, 3, 4);
        await live.caughtUp();
        const afterSwap = await rowsOf(name);
        assert.equal(afterSwap.orders.length, 30 + 6 + 3);

        // Against a projection built from zero by the ordinary consumer, under another name.
        const reference = `${name}_ref`;
        const fromZero = await startProjection(db, store, orderList(reference));
        await fromZero.caughtUp();
        await fromZero.stop();
        const expected = await rowsOf(reference);
        assert.deepEqual(afterSwap, expected);
        const { building, retired } = await rebuildSchemas(db, name);
        assert.equal(await schemaExists(building), false, "the building schema is gone");
        assert.equal(await schemaExists(retired), false, "the old tables are dropped");
      } finally {
        await live.stop();
      }
    });

    test("a rebuild interrupted halfway leaves the live projection as it was, and runs again from zero or resumed", async () => {
      const name = `rbi_${newId().slice(0, 8)}`;
      const org = newId();
      await appendOrders(org, 20, 4);
      const live = await startProjection(db, store, orderList(name));
      await live.caughtUp();
      await live.stop();
      const before = await rowsOf(name);
      const checkpointBefore = await liveCheckpoint(name);

      const stop = new AbortController();
      let logLength = 0;
      let doneAtStop = 0;
      await assert.rejects(
        rebuildProjection(db, store, orderList(name), {
          pageSize: 10,
          signal: stop.signal,
          onProgress(p) {
            logLength = p.eventsTotal;
            if (p.eventsDone >= 30 && !stop.signal.aborted) {
              doneAtStop = p.eventsDone;
              stop.abort();
            }
          },
        }),
        { name: "AbortError" },
      );
      assert.deepEqual(await rowsOf(name), before);
      assert.deepEqual(await liveCheckpoint(name), checkpointBefore);

      // Resumed: it goes on from the page it had reached, not from zero.
      const resumed = await rebuildProjection(db, store, orderList(name), { pageSize: 10, resume: true });
      assert.equal(resumed.events, logLength - doneAtStop, "the resumed run applies what the first one had not");
      assert.deepEqual(await rowsOf(name), before);

      // Interrupted again, then started over: from zero.
      const again = new AbortController();
      await assert.rejects(
        rebuildProjection(db, store, orderList(name), {
          pageSize: 10,
          signal: again.signal,
          onProgress: (p) => p.eventsDone >= 10 && again.abort(),
        }),
      );
      const fresh = await rebuildProjection(db, store, orderList(name), { pageSize: 10 });
      assert.equal(fresh.events, logLength, "a run started over applies the whole log");
      assert.deepEqual(await rowsOf(name), before);
    });

    test("a rebuild whose schema another run took over stops with RebuildConflictError, live untouched by it", async () => {
      const name = `rbc_${newId().slice(0, 8)}`;
      await appendOrders(newId(), 10, 3);
      let other: Promise<unknown> | undefined;
      await assert.rejects(
        rebuildProjection(db, store, orderList(name), {
          pageSize: 5,
          // After its first page, a second run starts over and completes.
          onProgress: async (p) => {
            if (p.eventsDone > 0 && !other) other = rebuildProjection(db, store, orderList(name), { pageSize: 50 });
          },
          signal: undefined,
        }).finally(async () => await other),
        RebuildConflictError,
      );
      assert.ok((await rowsOf(name)).orders.length >= 10);
    });

    test("a combined projection rebuilt equals its members built one by one, and its members' old checkpoints go", async () => {
      const [a, b] = [`rbma_${newId().slice(0, 8)}`, `rbmb_${newId().slice(0, 8)}`];
      await appendOrders(newId(), 12, 3);
      // b ran alone once: its checkpoint is taken over by the combined projection.
      const alone = await startProjection(db, store, orderList(b));
      await alone.caughtUp();
      await alone.stop();
      const combined = combineProjections(`rbm-${a}`, [orderList(a), orderList(b)]);
      const live = await startProjection(db, store, combined);
      await live.caughtUp();
      await live.stop();
      const expected = [await rowsOf(a), await rowsOf(b)];
      await rebuildProjection(db, store, combined, { pageSize: 8 });
      assert.deepEqual([await rowsOf(a), await rowsOf(b)], expected);
      assert.equal(await liveCheckpoint(b), undefined);
    });

    test("a combined projection's members all read before any of them writes: a page takes its transaction id for the writes only", async () => {
      const name = `rbx_${newId().slice(0, 8)}`;
      await appendOrders(newId(), 4, 3);
      // What the second member's reads find: whether the page's transaction holds a transaction id yet.
      const idsWhenRead: (string | null)[] = [];
      const reader: Projection = {
        name: `${name}-reader`,
        async handle(tx) {
          const { rows } = await tx.query<{ id: string | null }>("select pg_current_xact_id_if_assigned()::text as id");
          idsWhenRead.push(rows[0]!.id);
        },
      };
      const combined = combineProjections(`${name}-both`, [orderList(name), reader]);
      await rebuildProjection(db, store, combined, { pageSize: 5 });
      assert.ok(idsWhenRead.length >= 3, `read in ${idsWhenRead.length} pages`);
      assert.deepEqual(
        idsWhenRead.filter((id) => id !== null),
        [],
        "the first member's writes waited",
      );
      // The rebuild ends at the log's safe horizon as it stood then (on a shared server, a
      // transaction open elsewhere may hold it below the last appends): the live consumer, on the
      // swapped-in tables, takes it from there.
      const rebuilt = await startProjection(db, store, combined);
      await rebuilt.caughtUp();
      await rebuilt.stop();
      const live = await startProjection(db, store, orderList(`${name}_ref`));
      await live.caughtUp();
      await live.stop();
      assert.deepEqual((await rowsOf(name)).orders.length, (await rowsOf(`${name}_ref`)).orders.length);
    });

    test("pages shrink to keep each transaction within maxPageMs, and the result is the same", async () => {
      const name = `rbs_${newId().slice(0, 8)}`;
      await appendOrders(newId(), 10, 21);
      const live = await startProjection(db, store, orderList(name));
      await live.caughtUp();
      await live.stop();
      const expected = await rowsOf(name);
      const pages: number[] = [];
      // Any transaction takes longer than a nanosecond: every page is half the one before, down to one event.
      const result = await rebuildProjection(db, store, orderList(name), {
        pageSize: 64,
        maxPageMs: 1e-6,
        onProgress: (p) => p.phase === "building" && pages.push(p.eventsDone),
      });
      const sizes = pages.slice(1).map((done, i) => done - pages[i]!);
      assert.deepEqual(sizes.slice(0, 7), [64, 64, 32, 16, 8, 4, 2], "halved from the page after the first slow one");
      assert.ok(sizes.slice(8).every((size) => size === 1));
      assert.equal(
        sizes.reduce((a, b) => a + b, 0),
        result.events,
      );
      assert.deepEqual(await rowsOf(name), expected);
    });

    test("the first page is small and pages grow by half while they are quick, up to pageSize", async () => {
      const name = `rbg_${newId().slice(0, 8)}`;
      await appendOrders(newId(), 16, 100);
      const pages: number[] = [];
      // No transaction takes a second: every page is quick.
      await rebuildProjection(db, store, orderList(name), {
        pageSize: 450,
        maxPageMs: 1e6,
        onProgress: (p) => p.phase === "building" && pages.push(p.eventsDone),
      });
      const sizes = pages.slice(1).map((done, i) => done - pages[i]!);
      // The second page is read while the first is written, at the first one's size.
      assert.deepEqual(sizes.slice(0, 5), [200, 200, 300, 450, 450]);
    });

    test("a projection without tables of its own is rebuilt too: only its checkpoint moves", async () => {
      const name = `rbn_${newId().slice(0, 8)}`;
      await appendOrders(newId(), 2, 2);
      const seen: RecordedEvent[] = [];
      const result = await rebuildProjection(db, store, {
        name,
        handle: async (_tx, events) => void seen.push(...events),
      });
      assert.equal(seen.length, result.events);
      assert.deepEqual(result.swapped, []);
      const checkpoint = await liveCheckpoint(name);
      assert.equal(checkpoint?.global_position, seen.at(-1)?.globalPosition);
    });

    test("findProjection names the projections it knows when asked for another", () => {
      const known = [orderList("one"), orderList("two")];
      assert.equal(findProjection(known, "two").name, "two");
      assert.throws(
        () => findProjection(known, "three"),
        (error: unknown) =>
          error instanceof UnknownProjectionError && error.projection === "three" && /one, two/.test(error.message),
      );
    });
  });
}
