import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { MemoryBroker, organizationChannel } from "@sluice/broker";
import type { Publication } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { CommandAcceptedSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema, OrderEditedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import type { Database } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import { createEventStore, type EventStore } from "@sluice/event-store";
import { startSinkGateway } from "./sink-gateway";

for (const backend of await testBackends()) {
  describe(`the sink gateway on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;
    let store: EventStore;
    before(async () => {
      db = await backend.open();
      store = await createEventStore(db);
    });
    after(() => db?.close());

    test("publishes every event in log order, also when choosing its channels reads the event store", async () => {
      const org = randomUUID();
      const orderId = randomUUID();
      const streamId = `order-${orderId}`;
      const broker = new MemoryBroker();
      const received: Publication[] = [];
      const channel = "order-history";
      await broker.subscribe(organizationChannel(org, channel), {
        publication: (_channel, publication) => void received.push(publication),
        presence: () => {},
      });
      const sink = await startSinkGateway({
        db,
        store,
        broker,
        name: `sink-${randomUUID()}`,
        // Reads the event's own stream, as Dispatch's channels do for an order's route.
        channelsOf: async (event) => {
          if (event.organizationId !== org) return [];
          const stream = await store.readStream(event.organizationId, event.streamId);
          return stream.version >= event.streamVersion ? [channel] : [];
        },
        onError: (error) => assert.fail(error as Error),
      });
      try {
        const events = [
          create(OrderCreatedSchema, {
            orderId,
            projectId: "p-1",
            consignee: "ACME",
            address: "Main St 1",
            weightKg: 1,
          }),
          create(OrderEditedSchema, {
            orderId,
            projectId: "p-1",
            consignee: "ACME 2",
            address: "Main St 1",
            weightKg: 2,
          }),
        ];
        for (const [index, event] of events.entries()) {
          await store.append({
            organizationId: org,
            metadata: { userId: "u-1", commandId: randomUUID(), correlationId: randomUUID() },
            appends: [{ streamId, streamType: "dispatch.order", expectedVersion: BigInt(index), events: [event] }],
            result: create(CommandAcceptedSchema, {}),
          });
        }
        await sink.caughtUp();
        assert.deepEqual(
          received.map((publication) => publication.metadata?.streamVersion),
          [1n, 2n],
        );
      } finally {
        await sink.stop();
        await broker.close();
      }
    });
  });
}
