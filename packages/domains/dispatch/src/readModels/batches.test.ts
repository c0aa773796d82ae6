// The read models write a batch in fewer statements than one per event: a batch must leave the
// same rows as the same events given one at a time.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import * as events from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { migrate, type Database } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import type { RecordedEvent } from "@sluice/event-store";
import type { DispatchEvent } from "../events";
import { dispatchProjections } from "../index";

const org = "org-1";
const project = "p-1";

function history(): RecordedEvent[] {
  const versions = new Map<string, bigint>();
  const list: [string, DispatchEvent][] = [
    ["project-p-1", create(events.ProjectCreatedSchema, { projectId: project, name: "North" })],
    [
      "order-o-1",
      create(events.OrderCreatedSchema, {
        orderId: "o-1",
        projectId: project,
        consignee: "ACME",
        address: "a",
        weightKg: 120.5,
      }),
    ],
    [
      "order-o-2",
      create(events.OrderCreatedSchema, {
        orderId: "o-2",
        projectId: project,
        consignee: "Bolt",
        address: "b",
        weightKg: 0.1,
      }),
    ],
    [
      "route-r-1",
      create(events.RouteCreatedSchema, { routeId: "r-1", projectId: project, name: "Van 1", vehicleCapacityKg: 1000 }),
    ],
    ["order-o-1", create(events.OrderAssignedSchema, { orderId: "o-1", projectId: project, routeId: "r-1" })],
    [
      "route-r-1",
      create(events.StopAddedSchema, {
        routeId: "r-1",
        projectId: project,
        orderId: "o-1",
        position: 0,
        weightKg: 120.5,
      }),
    ],
    ["order-o-2", create(events.OrderAssignedSchema, { orderId: "o-2", projectId: project, routeId: "r-1" })],
    [
      "route-r-1",
      create(events.StopAddedSchema, {
        routeId: "r-1",
        projectId: project,
        orderId: "o-2",
        position: 0,
        weightKg: 0.1,
      }),
    ],
    [
      "order-o-3",
      create(events.OrderCreatedSchema, {
        orderId: "o-3",
        projectId: project,
        consignee: "Cargo",
        address: "c",
        weightKg: 3,
      }),
    ],
    [
      "order-o-1",
      create(events.OrderEditedSchema, {
        orderId: "o-1",
        projectId: project,
        consignee: "ACME Ltd",
        address: "a",
        weightKg: 99,
      }),
    ],
    [
      "route-r-1",
      create(events.StopWeightChangedSchema, { routeId: "r-1", projectId: project, orderId: "o-1", weightKg: 99 }),
    ],
    ["order-o-3", create(events.OrderCancelledSchema, { orderId: "o-3", projectId: project, reason: "gone" })],
    ["order-o-2", create(events.OrderUnassignedSchema, { orderId: "o-2", projectId: project, routeId: "r-1" })],
    ["route-r-1", create(events.StopRemovedSchema, { routeId: "r-1", projectId: project, orderId: "o-2" })],
    // Erasures rewrite rows written earlier: in the same batch from memory, or in the table.
    ["order-o-3", create(events.OrderPersonalDataErasedSchema, { orderId: "o-3", projectId: project })],
    ["order-o-2", create(events.OrderPersonalDataErasedSchema, { orderId: "o-2", projectId: project })],
    ["route-r-1", create(events.RouteDispatchedSchema, { routeId: "r-1", projectId: project })],
    ["order-o-1", create(events.OrderDeliveredSchema, { orderId: "o-1", projectId: project, routeId: "r-1" })],
    ["route-r-1", create(events.RouteCompletedSchema, { routeId: "r-1", projectId: project })],
  ];
  return list.map(([streamId, data], i) => {
    const version = (versions.get(streamId) ?? 0n) + 1n;
    versions.set(streamId, version);
    return {
      eventId: `e-${i}`,
      organizationId: org,
      streamId,
      streamType: streamId.split("-")[0]!,
      streamVersion: version,
      globalPosition: BigInt(i + 1),
      transactionId: BigInt(i + 1),
      type: data.$typeName.slice("dispatch.v1.".length),
      data,
      metadata: { userId: "user-ana", commandId: `c-${i}`, correlationId: `c-${i}` },
      occurredAt: new Date(Date.UTC(2026, 0, 1, 8, 0, i)),
    };
  });
}

async function dump(db: Database): Promise<unknown> {
  const tables = [
    "dispatch_projects",
    "dispatch_orders",
    "dispatch_routes",
    "dispatch_route_stops",
    "dispatch_activity",
    "dispatch_activity_labels",
  ];
  const out: Record<string, unknown> = {};
  for (const table of tables) out[table] = (await db.query(`select * from ${table} order by 1, 2, 3`)).rows;
  return out;
}

for (const backend of await testBackends()) {
  describe(
    `read models on ${backend.name}: one batch writes what its events one by one write`,
    { skip: backend.skip },
    () => {
      const opened: Database[] = [];
      after(async () => {
        for (const db of opened) await db.close();
      });

      async function apply(batches: RecordedEvent[][]): Promise<unknown> {
        const db = await backend.open();
        opened.push(db);
        await migrate(
          db,
          dispatchProjections.flatMap((model) => model.migrations),
        );
        for (const batch of batches) {
          await db.transaction(async (tx) => {
            for (const model of dispatchProjections) await model.handle(tx, batch);
          });
        }
        return dump(db);
      }

      test("whole history in one batch, in two, and one event at a time", async () => {
        const all = history();
        const oneByOne = await apply(all.map((event) => [event]));
        assert.deepEqual(await apply([all]), oneByOne);
        assert.deepEqual(await apply([all.slice(0, 7), all.slice(7)]), oneByOne);
        const activity = (oneByOne as { dispatch_activity: { summary: string }[] }).dispatch_activity.map(
          (row) => row.summary,
        );
        assert.ok(activity.includes("cancelled order o-3 (erased)"), activity.join("; "));
        assert.ok(activity.includes("took order o-2 (erased) off route Van 1"), activity.join("; "));
        assert.ok(!activity.some((summary) => /Cargo|Bolt|gone/.test(summary)), activity.join("; "));
        assert.ok(activity.includes("delivered order for ACME Ltd with route Van 1"), activity.join("; "));
      });
    },
  );
}
