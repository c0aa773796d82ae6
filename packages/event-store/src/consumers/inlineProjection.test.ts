import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Database, Queryable } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import { createEventStore } from "../eventStore";
import { accepted, metadata, newId, orderCreated } from "../testing/fixtures";
import type { EventStore, RecordedEvent } from "../types";
import type { Projection } from "./projection";

/** Counts each organization's orders; refuses an order for "nobody", to show a failed projection. */
const orderCounts: Projection = {
  name: "order-counts",
  migrations: [
    {
      id: "test/order-counts",
      sql: "create table order_counts (organization_id text primary key, orders int not null)",
    },
  ],
  async handle(tx: Queryable, events: readonly RecordedEvent[]) {
    for (const event of events) {
      if ((event.data as ReturnType<typeof orderCreated>).consignee === "nobody") throw new Error("no consignee");
      await tx.query(
        `insert into order_counts (organization_id, orders) values ($1, 1)
         on conflict (organization_id) do update set orders = order_counts.orders + 1`,
        [event.organizationId],
      );
    }
  },
};

const createOrder = (store: EventStore, organizationId: string, consignee = "ACME") => {
  const orderId = newId();
  return store.append({
    organizationId,
    metadata: metadata(),
    appends: [
      {
        streamId: orderId,
        streamType: "dispatch.order",
        expectedVersion: "no_stream",
        events: [orderCreated(orderId, consignee)],
      },
    ],
    result: accepted(orderId),
  });
};

async function ordersOf(db: Database, organizationId: string): Promise<number> {
  const { rows } = await db.query<{ orders: number }>("select orders from order_counts where organization_id = $1", [
    organizationId,
  ]);
  return rows[0]?.orders ?? 0;
}

for (const backend of await testBackends()) {
  describe(`inline projections on ${backend.name}`, { skip: backend.skip }, () => {
    test("an append's reply means its inline projection shows it; a projection that throws refuses only its command", async () => {
      const db = await backend.open();
      try {
        const store = await createEventStore(db, { inlineProjections: [orderCounts] });
        const org = newId();
        await createOrder(store, org);
        assert.equal(await ordersOf(db, org), 1, "read at once after the reply");

        // One batch: the failing command is refused alone, the others commit with their projection.
        const outcomes = await Promise.allSettled([
          createOrder(store, org),
          createOrder(store, org, "nobody"),
          createOrder(store, org),
        ]);
        assert.deepEqual(
          outcomes.map((outcome) => outcome.status),
          ["fulfilled", "rejected", "fulfilled"],
        );
        assert.equal(await ordersOf(db, org), 3);
        const { rows } = await db.query<{ count: bigint }>(
          "select count(*) as count from events where organization_id = $1",
          [org],
        );
        assert.equal(Number(rows[0]!.count), 3, "the refused command appended nothing");
      } finally {
        await db.close();
      }
    });

    test("an inline projection new to a log with events is refused at start; one that saw it all starts again", async () => {
      const db = await backend.open();
      try {
        const plain = await createEventStore(db);
        await createOrder(plain, newId());
        await assert.rejects(
          createEventStore(db, { inlineProjections: [orderCounts] }),
          /inline projection order-counts is new to a log that has events: build it from the log first/,
        );
      } finally {
        await db.close();
      }

      const fresh = await backend.open();
      try {
        const org = newId();
        await createOrder(await createEventStore(fresh, { inlineProjections: [orderCounts] }), org);
        const again = await createEventStore(fresh, { inlineProjections: [orderCounts] });
        await createOrder(again, org);
        assert.equal(await ordersOf(fresh, org), 2);
      } finally {
        await fresh.close();
      }
    });
  });
}
