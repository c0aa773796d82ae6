import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  AssignOrderRequestSchema,
  CancelOrderRequestSchema,
  CompleteRouteRequestSchema,
  CreateOrderRequestSchema,
  CreateProjectRequestSchema,
  CreateRouteRequestSchema,
  DispatchRouteRequestSchema,
  EditOrderRequestSchema,
  ReorderStopsRequestSchema,
  UnassignOrderRequestSchema,
} from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import {
  GetOrderBoardRequestSchema,
  GetRouteSheetRequestSchema,
  ListActivityRequestSchema,
  ListProjectsRequestSchema,
  ListRoutesRequestSchema,
} from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { OrderStatus, RouteStatus } from "@sluice/contracts/gen/dispatch/v1/types_pb";
import { ErrorCode } from "@sluice/contracts/gen/sluice/v1/errors_pb";
import { migrate, type Database } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import {
  createEventStore,
  startProjection,
  type Consumer,
  type EventStore,
  type RecordedEvent,
} from "@sluice/event-store";
import { createDispatchModule, seedDemoDispatch, type DispatchModule } from "./index";
import { callContext, rejectsWithCode } from "./testSupport";

for (const backend of await testBackends()) {
  describe(
    `the dispatch module on ${backend.name}: commands in, read models, channels and the demo seed out`,
    { skip: backend.skip },
    () => {
      let db: Database;
      let store: EventStore;
      let dispatch: DispatchModule;
      const projections: Consumer[] = [];
      before(async () => {
        db = await backend.open();
        store = await createEventStore(db);
        dispatch = createDispatchModule({ db, store });
        await migrate(db, dispatch.migrations);
        // As the server runs them: every read model in one consumer.
        projections.push(await startProjection(db, store, dispatch.readModels));
      });
      after(async () => {
        for (const projection of projections) await projection.stop();
        await db?.close();
      });

      const settle = async () => {
        for (const projection of projections) await projection.caughtUp();
      };

      test("commands in, order board, route sheets, projects and activity out", async () => {
        const org = randomUUID();
        const ctx = () => callContext(org, { userId: "user-ana" });
        const { commands, queries } = dispatch;
        const { projectId = "" } = await commands.createProject(
          create(CreateProjectRequestSchema, { name: "Rotterdam depot" }),
          ctx(),
        );
        const window = {
          start: timestampFromMs(Date.UTC(2030, 0, 1, 8)),
          end: timestampFromMs(Date.UTC(2030, 0, 1, 10)),
        };
        const newOrder = async (consignee: string, weightKg: number) =>
          (
            await commands.createOrder(
              create(CreateOrderRequestSchema, {
                projectId,
                consignee,
                address: "Kade 1",
                weightKg,
                timeWindow: window,
              }),
              ctx(),
            )
          ).orderId ?? "";
        const acme = await newOrder("ACME", 120);
        const bakery = await newOrder("Bakery", 80);
        const harbour = await newOrder("Harbour", 450);
        const spare = await newOrder("Spare", 10);
        const { routeId: north = "" } = await commands.createRoute(
          create(CreateRouteRequestSchema, { projectId, name: "North", vehicleCapacityKg: 1000 }),
          ctx(),
        );
        const { routeId: south = "" } = await commands.createRoute(
          create(CreateRouteRequestSchema, { projectId, name: "South", vehicleCapacityKg: 500 }),
          ctx(),
        );
        const assign = (routeId: string, orderId: string, position: number) =>
          commands.assignOrder(create(AssignOrderRequestSchema, { routeId, orderId, position }), ctx());
        await assign(north, acme, 0);
        await assign(north, bakery, 0); // bakery, acme
        await assign(north, harbour, 1); // bakery, harbour, acme
        await assign(south, spare, 0);
        await commands.reorderStops(
          create(ReorderStopsRequestSchema, { routeId: north, orderIds: [acme, bakery, harbour] }),
          ctx(),
        );
        await commands.editOrder(
          create(EditOrderRequestSchema, { orderId: acme, weightKg: 150, consignee: "ACME BV" }),
          ctx(),
        );
        await commands.cancelOrder(create(CancelOrderRequestSchema, { orderId: bakery, reason: "closed" }), ctx());
        await commands.unassignOrder(create(UnassignOrderRequestSchema, { routeId: south, orderId: spare }), ctx());
        await commands.dispatchRoute(create(DispatchRouteRequestSchema, { routeId: north }), ctx());
        await settle();

        const session = ctx();
        const board = await queries.getOrderBoard(create(GetOrderBoardRequestSchema, { projectId }), session);
        const byId = new Map(board.orders?.map((o) => [o.orderId, o]));
        assert.equal(byId.get(acme)?.status, OrderStatus.DISPATCHED);
        assert.equal(byId.get(acme)?.consignee, "ACME BV");
        assert.equal(byId.get(acme)?.weightKg, 150);
        assert.equal(byId.get(acme)?.routeId, north);
        assert.equal(byId.get(acme)?.version, 3n); // created, assigned, edited
        assert.equal(byId.get(bakery)?.status, OrderStatus.CANCELLED);
        assert.equal(byId.get(bakery)?.routeId, "");
        assert.equal(byId.get(spare)?.status, OrderStatus.OPEN);
        assert.equal(byId.get(harbour)?.timeWindow?.start?.seconds, BigInt(Date.UTC(2030, 0, 1, 8) / 1000));

        const sheet = await queries.getRouteSheet(create(GetRouteSheetRequestSchema, { routeId: north }), session);
        assert.deepEqual(
          sheet.stops?.map((s) => [s.consignee, s.weightKg]),
          [
            ["ACME BV", 150],
            ["Harbour", 450],
          ],
        );
        assert.equal(sheet.route?.loadKg, 600);
        assert.equal(sheet.route?.stopCount, 2);
        assert.equal(sheet.route?.status, RouteStatus.DISPATCHED);
        // created, 3 stops added, reordered, weight changed, stop removed, dispatched
        assert.equal(sheet.route?.version, 8n);

        const routes = await queries.listRoutes(create(ListRoutesRequestSchema, { projectId }), session);
        assert.deepEqual(
          routes.routes?.map((r) => [r.name, r.loadKg, r.stopCount]),
          [
            ["North", 600, 2],
            ["South", 0, 0],
          ],
        );

        const projects = await queries.listProjects(create(ListProjectsRequestSchema), session);
        assert.deepEqual(
          projects.projects?.map((p) => [p.name, p.openOrders, p.routes, p.version]),
          [["Rotterdam depot", 1, 2, 1n]],
        );

        const feed = await queries.listActivity(create(ListActivityRequestSchema, { projectId, limit: 50 }), session);
        const sentences = feed.entries?.map((e) => e.summary) ?? [];
        assert.equal(sentences[0], "user-ana dispatched route North");
        assert.ok(sentences.includes("user-ana created order for ACME (120 kg)"), sentences.join("\n"));
        assert.ok(sentences.includes("user-ana put order for ACME on route North"));
        assert.ok(sentences.includes("user-ana cancelled order for Bakery: closed"));
        assert.ok(sentences.includes("user-ana took order for Spare off route South"));
        const page = await queries.listActivity(
          create(ListActivityRequestSchema, { projectId, limit: 2, before: feed.entries![0]!.globalPosition }),
          session,
        );
        assert.deepEqual(
          page.entries?.map((e) => e.globalPosition),
          feed.entries?.slice(1, 3).map((e) => e.globalPosition),
        );

        await commands.completeRoute(create(CompleteRouteRequestSchema, { routeId: north }), ctx());
        await settle();
        const delivered = await queries.getOrderBoard(create(GetOrderBoardRequestSchema, { projectId }), session);
        assert.deepEqual(
          delivered.orders
            ?.filter((o) => o.status === OrderStatus.DELIVERED)
            .map((o) => o.orderId)
            .sort(),
          [acme, harbour].sort(),
        );
      });

      test("every query sees its own organization only", async () => {
        const org = randomUUID();
        const { projectId = "" } = await dispatch.commands.createProject(
          create(CreateProjectRequestSchema, { name: "Mine" }),
          callContext(org),
        );
        const { routeId = "" } = await dispatch.commands.createRoute(
          create(CreateRouteRequestSchema, { projectId, name: "R", vehicleCapacityKg: 1 }),
          callContext(org),
        );
        await settle();
        const other = callContext(randomUUID());
        assert.deepEqual((await dispatch.queries.listProjects(create(ListProjectsRequestSchema), other)).projects, []);
        await rejectsWithCode(
          dispatch.queries.getOrderBoard(create(GetOrderBoardRequestSchema, { projectId }), other),
          ErrorCode.NOT_FOUND,
        );
        await rejectsWithCode(
          dispatch.queries.listRoutes(create(ListRoutesRequestSchema, { projectId }), other),
          ErrorCode.NOT_FOUND,
        );
        await rejectsWithCode(
          dispatch.queries.getRouteSheet(create(GetRouteSheetRequestSchema, { routeId }), other),
          ErrorCode.NOT_FOUND,
        );
        await rejectsWithCode(
          dispatch.queries.listActivity(create(ListActivityRequestSchema, { projectId }), other),
          ErrorCode.NOT_FOUND,
        );
      });

      test("the activity feed names users from identity's users table", async () => {
        const org = randomUUID();
        // Identity's table, as its migration makes it; here only the columns the join reads.
        await db.exec(
          `create table if not exists users (id text primary key, organization_id text not null, display_name text not null)`,
        );
        await db.query(`insert into users (id, organization_id, display_name) values ($1, $2, 'Ana')`, [
          "user-ana-2",
          org,
        ]);
        const { projectId = "" } = await dispatch.commands.createProject(
          create(CreateProjectRequestSchema, { name: "Named" }),
          callContext(org, { userId: "user-ana-2" }),
        );
        await settle();
        const feed = await dispatch.queries.listActivity(
          create(ListActivityRequestSchema, { projectId }),
          callContext(org),
        );
        assert.deepEqual(
          feed.entries?.map((e) => [e.summary, e.userName]),
          [["Ana created project Named", "Ana"]],
        );
      });

      /**
       * The streams' events in log order. Read per stream: the global log holds back events behind
       * a transaction still open (a projection's, on PostgreSQL), so it may not show them yet.
       */
      async function eventsOf(org: string, streamIds: readonly string[]): Promise<RecordedEvent[]> {
        const streams = await Promise.all(streamIds.map((streamId) => store.readStream(org, streamId)));
        return streams.flatMap((stream) => stream.events).sort((a, b) => Number(a.globalPosition - b.globalPosition));
      }

      test("channelsOf: org for new projects, the project for all, the route for everything about it", async () => {
        const org = randomUUID();
        const ctx = () => callContext(org);
        const { commands } = dispatch;
        const { projectId = "" } = await commands.createProject(
          create(CreateProjectRequestSchema, { name: "P" }),
          ctx(),
        );
        const { orderId = "" } = await commands.createOrder(
          create(CreateOrderRequestSchema, { projectId, consignee: "ACME", address: "Kade 1", weightKg: 10 }),
          ctx(),
        );
        const { routeId = "" } = await commands.createRoute(
          create(CreateRouteRequestSchema, { projectId, name: "N", vehicleCapacityKg: 100 }),
          ctx(),
        );
        await commands.assignOrder(create(AssignOrderRequestSchema, { routeId, orderId }), ctx());
        await commands.editOrder(create(EditOrderRequestSchema, { orderId, address: "Dam 1" }), ctx());
        await commands.cancelOrder(create(CancelOrderRequestSchema, { orderId }), ctx());

        const channels = await Promise.all(
          (await eventsOf(org, [`project-${projectId}`, `order-${orderId}`, `route-${routeId}`])).map(async (event) => [
            event.type.slice(12),
            await dispatch.channelsOf(event),
          ]),
        );
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
        const streamIds = [
          `project-${first.projectId}`,
          ...first.orderIds.map((id) => `order-${id}`),
          ...first.routeIds.map((id) => `route-${id}`),
        ];
        const count = (await eventsOf(org, streamIds)).length;
        const again = await seedDemoDispatch({ store, organizationId: org, userId: "user-ana" });
        assert.deepEqual(again, first);
        assert.equal((await eventsOf(org, streamIds)).length, count);
        assert.equal(first.routeIds.length, 2);
        assert.ok(first.orderIds.length >= 4);
        const north = await store.readStream(org, `route-${first.routeIds[0]}`);
        assert.deepEqual(north.events.filter((e) => e.type === "dispatch.v1.StopAdded").length, 3);
        const project = await store.readStream(org, `project-${first.projectId}`);
        assert.equal(project.version, 1n);
      });
    },
  );
}
