import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import {
  AssignOrderRequestSchema,
  CancelOrderRequestSchema,
  CreateOrderRequestSchema,
  CreateProjectRequestSchema,
  CreateRouteRequestSchema,
  EditOrderRequestSchema,
} from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { migrate, openDatabase, type Database } from "@sluice/database";
import { createEventStore, startOfLog, type EventStore, type RecordedEvent } from "@sluice/event-store";
import { createDispatchModule, seedDemoDispatch, type DispatchModule } from "./index";
import { callContext } from "./testSupport";

describe("dispatch module on PGlite", () => {
  let db: Database;
  let store: EventStore;
  let dispatch: DispatchModule;
  before(async () => {
    db = await openDatabase({ kind: "pglite" });
    store = await createEventStore(db);
    dispatch = createDispatchModule({ db, store });
    await migrate(db, dispatch.migrations);
  });
  after(() => db?.close());

  async function eventsOf(org: string): Promise<RecordedEvent[]> {
    const all = await store.readAll({ after: startOfLog, limit: 10_000 });
    return all.filter((event) => event.organizationId === org);
  }

  test("channelsOf: org for new projects, the project for all, the route for everything about it", async () => {
    const org = randomUUID();
    const ctx = () => callContext(org);
    const { commands } = dispatch;
    const { projectId = "" } = await commands.createProject(create(CreateProjectRequestSchema, { name: "P" }), ctx());
    const { orderId = "" } = await commands.createOrder(
      create(CreateOrderRequestSchema, { projectId, consignee: "ACME", address: "Kade 1", weightKg: 10 }),
      ctx(),
    );
    const { routeId = "" } = await commands.createRoute(create(CreateRouteRequestSchema, { projectId, name: "N", vehicleCapacityKg: 100 }), ctx());
    await commands.assignOrder(create(AssignOrderRequestSchema, { routeId, orderId }), ctx());
    await commands.editOrder(create(EditOrderRequestSchema, { orderId, address: "Dam 1" }), ctx());
    await commands.cancelOrder(create(CancelOrderRequestSchema, { orderId }), ctx());

    const channels = await Promise.all((await eventsOf(org)).map(async (event) => [event.type.slice(12), await dispatch.channelsOf(event)]));
    const project = `project:${projectId}`;
    const route = `route:${routeId}`;
    assert.deepEqual(channels, [
      ["ProjectCreated", ["org", project]],
      ["OrderCreated", [project]],
      ["RouteCreated", [project, route]],
      ["StopAdded", [project, route]],
      ["OrderAssigned", [project, route]],
      // Edited while on the route: the route's subscribers see it although the event names no route.
      ["OrderEdited", [project, route]],
      ["OrderCancelled", [project, route]],
      ["StopRemoved", [project, route]],
    ]);
  });

  test("the demo seed makes Rotterdam depot once, however often it runs", async () => {
    const org = randomUUID();
    const first = await seedDemoDispatch({ store, organizationId: org, userId: "user-ana" });
    const count = (await eventsOf(org)).length;
    const again = await seedDemoDispatch({ store, organizationId: org, userId: "user-ana" });
    assert.deepEqual(again, first);
    assert.equal((await eventsOf(org)).length, count);
    assert.equal(first.routeIds.length, 2);
    assert.ok(first.orderIds.length >= 4);
    const north = await store.readStream(org, `route-${first.routeIds[0]}`);
    assert.deepEqual(
      north.events.filter((e) => e.type === "dispatch.v1.StopAdded").length,
      3,
    );
    const project = await store.readStream(org, `project-${first.projectId}`);
    assert.equal(project.version, 1n);
  });
});
