import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { create, isMessage } from "@bufbuild/protobuf";
import { Role } from "@sluice/contracts";
import {
  AssignOrderRequestSchema,
  CancelOrderRequestSchema,
  CreateOrderRequestSchema,
  CreateProjectRequestSchema,
  CreateRouteRequestSchema,
  DispatchCommandService,
  EditOrderRequestSchema,
  EraseOrderPersonalDataRequestSchema,
} from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import {
  GetOrderBoardRequestSchema,
  GetRouteSheetRequestSchema,
  ListActivityRequestSchema,
} from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { ErrorCode } from "@sluice/contracts/gen/sluice/v1/errors_pb";
import { migrate, type Database } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import {
  createEventStore,
  projectionCheckpointName,
  startProjection,
  type Consumer,
  type EventStore,
} from "@sluice/event-store";
import { Router } from "@sluice/rpc";
import { createDispatchModule, type DispatchModule } from "./index";
import { rules } from "./rules";
import { orderStreamId } from "./streams";
import { callContext, rejectsWithCode } from "./testSupport";

/** Every text the read models hold, as one string to search for names in. */
async function readModelText(db: Database, org: string): Promise<string> {
  const tables = ["dispatch_orders", "dispatch_route_stops", "dispatch_activity", "dispatch_activity_labels"];
  const texts = await Promise.all(
    tables.map(async (table) => {
      const { rows } = await db.query<{ row: string }>(
        `select t::text as row from ${table} t where organization_id = $1`,
        [org],
      );
      return rows.map((r) => r.row).join("\n");
    }),
  );
  return texts.join("\n");
}

for (const backend of await testBackends()) {
  describe(`erasing an order's personal data on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;
    let store: EventStore;
    let dispatch: DispatchModule;
    let projection: Consumer;
    before(async () => {
      db = await backend.open();
      store = await createEventStore(db);
      dispatch = createDispatchModule({ db, store });
      await migrate(db, dispatch.migrations);
      projection = await startProjection(db, store, dispatch.readModels);
    });
    after(async () => {
      await projection?.stop();
      await db?.close();
    });

    const admin = (org: string, commandId?: string) => callContext(org, { role: Role.ADMIN, commandId });
    const erase = (org: string, orderId: string, commandId?: string) =>
      dispatch.commands.eraseOrderPersonalData(
        create(EraseOrderPersonalDataRequestSchema, { orderId }),
        admin(org, commandId),
      );

    /** A project with Jane's order on route North (edited once), Bob's cancelled with a reason, John's open. */
    async function scene(org: string) {
      const { commands } = dispatch;
      const ctx = () => callContext(org);
      const { projectId = "" } = await commands.createProject(
        create(CreateProjectRequestSchema, { name: "Depot" }),
        ctx(),
      );
      const order = async (consignee: string, address: string) =>
        (
          await commands.createOrder(
            create(CreateOrderRequestSchema, { projectId, consignee, address, weightKg: 100 }),
            ctx(),
          )
        ).orderId ?? "";
      const jane = await order("Jane Roe", "Elm Street 5");
      const bob = await order("Bob Vance", "Birch Lane 7");
      const john = await order("John Poe", "Oak Road 9");
      await commands.editOrder(create(EditOrderRequestSchema, { orderId: jane, consignee: "Jane Doe-Roe" }), ctx());
      const { routeId = "" } = await commands.createRoute(
        create(CreateRouteRequestSchema, { projectId, name: "North", vehicleCapacityKg: 1000 }),
        ctx(),
      );
      await commands.assignOrder(create(AssignOrderRequestSchema, { routeId, orderId: jane, position: 0 }), ctx());
      await commands.assignOrder(create(AssignOrderRequestSchema, { routeId, orderId: john, position: 1 }), ctx());
      await commands.cancelOrder(create(CancelOrderRequestSchema, { orderId: bob, reason: "Bob Vance moved" }), ctx());
      return { projectId, routeId, jane, bob, john };
    }

    /** What the read models show of the scene, as a reader of each query sees it. */
    async function views(org: string, projectId: string, routeId: string) {
      const session = callContext(org);
      const { queries } = dispatch;
      const board = await queries.getOrderBoard(create(GetOrderBoardRequestSchema, { projectId }), session);
      const sheet = await queries.getRouteSheet(create(GetRouteSheetRequestSchema, { routeId }), session);
      const feed = await queries.listActivity(create(ListActivityRequestSchema, { projectId, limit: 100 }), session);
      return {
        board: new Map((board.orders ?? []).map((o) => [o.orderId, [o.consignee, o.address, o.personalDataErased]])),
        sheet: (sheet.stops ?? []).map((s) => [s.orderId, s.consignee, s.address, s.personalDataErased]),
        activity: (feed.entries ?? []).map((e) => e.summary),
      };
    }

    test("erased orders read empty in every event and every read model, live and rebuilt; others stay", async () => {
      const org = randomUUID();
      const { projectId, routeId, jane, bob, john } = await scene(org);
      await erase(org, jane);
      await erase(org, bob);
      await projection.caughtUp();

      const expectErased = async () => {
        const { board, sheet, activity } = await views(org, projectId, routeId);
        assert.deepEqual(board.get(jane), ["", "", true]);
        assert.deepEqual(board.get(bob), ["", "", true]);
        assert.deepEqual(board.get(john), ["John Poe", "Oak Road 9", false]);
        assert.deepEqual(sheet, [
          [jane, "", "", true],
          [john, "John Poe", "Oak Road 9", false],
        ]);
        const feed = activity.join("\n");
        assert.doesNotMatch(feed, /Jane|Roe|Elm|Bob|Vance|Birch/);
        assert.match(feed, new RegExp(`put order ${jane.slice(0, 8)} \\(erased\\) on route North`));
        assert.match(feed, new RegExp(`cancelled order ${bob.slice(0, 8)} \\(erased\\)$`, "m"));
        assert.match(feed, new RegExp(`erased the personal data of order ${jane.slice(0, 8)}`));
        assert.match(feed, /created order for John Poe \(100 kg\)/);
        assert.match(feed, /put order for John Poe on route North/);
        const stored = await readModelText(db, org);
        assert.doesNotMatch(stored, /Jane|Roe|Elm|Bob|Vance|Birch/);
        assert.match(stored, /John Poe/);
      };
      await expectErased();

      // Every event of the erased orders reads empty, and says why.
      for (const orderId of [jane, bob]) {
        const { events } = await store.readStream(org, orderStreamId(orderId));
        for (const { data } of events) {
          const fields = data as {
            consignee?: string;
            address?: string;
            reason?: string;
            personalDataErased?: boolean;
          };
          for (const field of [fields.consignee, fields.address, fields.reason]) assert.ok(!field, `${data.$typeName}`);
          if ("personalDataErased" in fields && data.$typeName !== "dispatch.v1.OrderPersonalDataErased")
            assert.equal(fields.personalDataErased, true, data.$typeName);
        }
      }
      const johns = (await store.readStream(org, orderStreamId(john))).events[0]?.data;
      assert.ok(johns && isMessage(johns, OrderCreatedSchema) && johns.consignee === "John Poe");

      // A rebuilt projection, from the first event, forgets as well.
      await projection.stop();
      await db.exec(
        "truncate dispatch_projects, dispatch_orders, dispatch_routes, dispatch_route_stops, dispatch_activity, dispatch_activity_labels",
      );
      await db.query("delete from consumer_checkpoints where name = $1", [
        projectionCheckpointName(dispatch.readModels.name),
      ]);
      projection = await startProjection(db, store, dispatch.readModels);
      await projection.caughtUp();
      await expectErased();
    });

    test("erasing is idempotent, and an erased order takes no personal data again", async () => {
      const org = randomUUID();
      const { jane } = await scene(org);
      const commandId = randomUUID();
      const first = await erase(org, jane, commandId);
      const version = (await store.readStream(org, orderStreamId(jane))).version;
      assert.deepEqual(
        first.versions?.map((v) => [v.streamId, v.version]),
        [[orderStreamId(jane), version]],
      );
      assert.deepEqual(await erase(org, jane, commandId), first);
      const again = await erase(org, jane);
      assert.deepEqual(
        again.versions?.map((v) => [v.streamId, v.version]),
        [[orderStreamId(jane), version]],
      );
      assert.equal((await store.readStream(org, orderStreamId(jane))).version, version);

      await rejectsWithCode(
        dispatch.commands.editOrder(
          create(EditOrderRequestSchema, { orderId: jane, consignee: "Jane" }),
          callContext(org),
        ),
        ErrorCode.FAILED_PRECONDITION,
        rules.orderPersonalDataErased,
      );
      // What is not personal still changes.
      await dispatch.commands.editOrder(
        create(EditOrderRequestSchema, { orderId: jane, weightKg: 90 }),
        callContext(org),
      );
      assert.equal((await store.readStream(org, orderStreamId(jane))).version, version + 1n);
    });

    test("another organization's order ids erase nothing: NOT_FOUND", async () => {
      const org = randomUUID();
      const { projectId, routeId, john } = await scene(org);
      await rejectsWithCode(erase(randomUUID(), john), ErrorCode.NOT_FOUND);
      await projection.caughtUp();
      const { board } = await views(org, projectId, routeId);
      assert.deepEqual(board.get(john), ["John Poe", "Oak Road 9", false]);
    });

    test("only an admin or an owner may erase (the policy declared beside the method)", async () => {
      const org = randomUUID();
      const { john } = await scene(org);
      const router = new Router().service(DispatchCommandService, dispatch.commands);
      const route = router.route("dispatch.v1.DispatchCommandService/EraseOrderPersonalData")!;
      const request = create(EraseOrderPersonalDataRequestSchema, { orderId: john });
      for (const role of [Role.VIEWER, Role.DISPATCHER]) {
        await rejectsWithCode(router.invoke(route, request, callContext(org, { role })), ErrorCode.PERMISSION_DENIED);
      }
      await router.invoke(route, request, callContext(org, { role: Role.ADMIN }));
      await router.invoke(route, request, callContext(org, { role: Role.OWNER }));
      const { events } = await store.readStream(org, orderStreamId(john));
      assert.equal(events.filter((e) => e.type === "dispatch.v1.OrderPersonalDataErased").length, 1);
    });
  });
}
