import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import {
  AssignOrderRequestSchema,
  CommandAcceptedSchema,
  CancelOrderRequestSchema,
  CompleteRouteRequestSchema,
  CreateOrderRequestSchema,
  CreateProjectRequestSchema,
  CreateRouteRequestSchema,
  DispatchRouteRequestSchema,
  EditOrderRequestSchema,
} from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { RouteDispatchedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { ErrorCode } from "@sluice/contracts/gen/sluice/v1/errors_pb";
import type { Database } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import { createEventStore, streamClosedRule, type EventStore } from "@sluice/event-store";
import type { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import type { ServiceImpl } from "@sluice/rpc";
import { rules } from "../rules";
import { callContext, rejectsWithCode } from "../testSupport";
import { createCommandService } from "./commandService";

for (const backend of await testBackends()) {
  describe(`dispatch command service on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;
    let store: EventStore;
    let commands: ServiceImpl<typeof DispatchCommandService>;
    before(async () => {
      db = await backend.open();
      store = await createEventStore(db);
      commands = createCommandService(store);
    });
    after(() => db?.close());

    async function project(org: string) {
      const { projectId } = await commands.createProject(
        create(CreateProjectRequestSchema, { name: "Depot" }),
        callContext(org),
      );
      return projectId!;
    }
    async function order(org: string, projectId: string, weightKg = 100) {
      const request = create(CreateOrderRequestSchema, { projectId, consignee: "ACME", address: "Kade 1", weightKg });
      return (await commands.createOrder(request, callContext(org))).orderId!;
    }
    async function route(org: string, projectId: string, vehicleCapacityKg = 1000) {
      const request = create(CreateRouteRequestSchema, { projectId, name: "North", vehicleCapacityKg });
      return (await commands.createRoute(request, callContext(org))).routeId!;
    }
    const assign = (org: string, routeId: string, orderId: string) =>
      commands.assignOrder(create(AssignOrderRequestSchema, { routeId, orderId, position: 99 }), callContext(org));

    test("create returns a server-made id and the version reached", async () => {
      const org = randomUUID();
      const projectId = await project(org);
      const created = await commands.createOrder(
        create(CreateOrderRequestSchema, { projectId, consignee: "ACME", address: "Kade 1", weightKg: 120 }),
        callContext(org),
      );
      assert.match(created.orderId ?? "", /^[0-9a-f-]{36}$/);
      assert.deepEqual(
        created.accepted?.versions?.map((v) => [v.streamId, v.version]),
        [[`order-${created.orderId}`, 1n]],
      );
      const stream = await store.readStream(org, `order-${created.orderId}`);
      assert.equal(stream.events[0]?.type, "dispatch.v1.OrderCreated");
      assert.equal(stream.events[0]?.metadata.userId, "user-ana");
    });

    test("a retried command returns the same order id and appends nothing", async () => {
      const org = randomUUID();
      const projectId = await project(org);
      const request = create(CreateOrderRequestSchema, {
        projectId,
        consignee: "ACME",
        address: "Kade 1",
        weightKg: 120,
      });
      const commandId = randomUUID();
      const first = await commands.createOrder(request, callContext(org, { commandId }));
      const retry = await commands.createOrder(request, callContext(org, { commandId }));
      assert.equal(retry.orderId, first.orderId);
      const concurrent = await Promise.all(
        [1, 2].map(() => commands.createOrder(request, callContext(org, { commandId: randomUUID() }))),
      );
      assert.notEqual(concurrent[0]?.orderId, concurrent[1]?.orderId);
      // The same command id arriving twice at once: one appends, the other gets its result.
      const twice = randomUUID();
      const [a, b] = await Promise.all(
        [1, 2].map(() => commands.createOrder(request, callContext(org, { commandId: twice }))),
      );
      assert.equal(a?.orderId, b?.orderId);
      assert.equal((await store.readStream(org, `order-${a?.orderId}`)).version, 1n);
    });

    test("an edit that changes nothing appends nothing and answers the current version", async () => {
      const org = randomUUID();
      const orderId = await order(org, await project(org));
      const same = await commands.editOrder(
        create(EditOrderRequestSchema, { orderId, consignee: "ACME" }),
        callContext(org),
      );
      assert.deepEqual(
        same.versions?.map((v) => [v.streamId, v.version]),
        [[`order-${orderId}`, 1n]],
      );
      assert.equal((await store.readStream(org, `order-${orderId}`)).version, 1n);
    });

    test("concurrent conflicting edits: one wins, the other gets CONFLICT", async () => {
      const org = randomUUID();
      const orderId = await order(org, await project(org));
      const edit = (address: string) =>
        commands.editOrder(create(EditOrderRequestSchema, { orderId, address, expectedVersion: 1n }), callContext(org));
      const results = await Promise.allSettled([edit("Dam 1"), edit("Dam 2")]);
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
      const rejected = results.find((r) => r.status === "rejected");
      await rejectsWithCode(Promise.reject(rejected?.reason), ErrorCode.CONFLICT);
      assert.equal((await store.readStream(org, `order-${orderId}`)).version, 2n);
    });

    test("concurrent assignments of one order to two routes: one wins", async () => {
      const org = randomUUID();
      const projectId = await project(org);
      const orderId = await order(org, projectId);
      const [north, south] = [await route(org, projectId), await route(org, projectId)];
      const results = await Promise.allSettled([assign(org, north, orderId), assign(org, south, orderId)]);
      const won = results.filter((r) => r.status === "fulfilled").length;
      // Either both ran in turn (the second moved the order) or they raced and one conflicted.
      if (won === 1)
        await rejectsWithCode(Promise.reject(results.find((r) => r.status === "rejected")?.reason), ErrorCode.CONFLICT);
      const stops = async (routeId: string) =>
        (await store.readStream(org, `route-${routeId}`)).events.filter((e) => e.type === "dispatch.v1.StopAdded")
          .length -
        (await store.readStream(org, `route-${routeId}`)).events.filter((e) => e.type === "dispatch.v1.StopRemoved")
          .length;
      assert.equal((await stops(north)) + (await stops(south)), 1);
    });

    test("an order edited while its route is dispatched conflicts instead of changing on the road", async () => {
      const org = randomUUID();
      const projectId = await project(org);
      const orderId = await order(org, projectId);
      const routeId = await route(org, projectId);
      await assign(org, routeId, orderId);
      // The real store, with someone else dispatching the route right after the edit has read it.
      let interleaved = false;
      const racing: EventStore = {
        ...store,
        async readStream(organizationId, streamId, options) {
          const stream = await store.readStream(organizationId, streamId, options);
          if (streamId === `route-${routeId}` && !interleaved) {
            interleaved = true;
            await commands.dispatchRoute(create(DispatchRouteRequestSchema, { routeId }), callContext(org));
          }
          return stream;
        },
      };
      await rejectsWithCode(
        createCommandService(racing).editOrder(
          create(EditOrderRequestSchema, { orderId, address: "Elsewhere" }),
          callContext(org),
        ),
        ErrorCode.CONFLICT,
      );
      assert.ok(interleaved);
      assert.equal((await store.readStream(org, `order-${orderId}`)).version, 2n);
    });

    test("another organization's ids read as NOT_FOUND", async () => {
      const org = randomUUID();
      const other = randomUUID();
      const projectId = await project(org);
      const orderId = await order(org, projectId);
      const routeId = await route(org, projectId);
      await rejectsWithCode(
        commands.editOrder(create(EditOrderRequestSchema, { orderId, address: "Elsewhere" }), callContext(other)),
        ErrorCode.NOT_FOUND,
      );
      await rejectsWithCode(
        commands.createOrder(
          create(CreateOrderRequestSchema, { projectId, consignee: "X", address: "Y", weightKg: 1 }),
          callContext(other),
        ),
        ErrorCode.NOT_FOUND,
      );
      await rejectsWithCode(assign(other, routeId, orderId), ErrorCode.NOT_FOUND);
      // The other organization's own order still cannot reach this route.
      const theirOrder = await order(other, await project(other));
      await rejectsWithCode(assign(other, routeId, theirOrder), ErrorCode.NOT_FOUND);
    });

    test("moving an order between planning routes writes three streams at once", async () => {
      const org = randomUUID();
      const projectId = await project(org);
      const orderId = await order(org, projectId);
      const north = await route(org, projectId);
      const south = await route(org, projectId);
      await assign(org, north, orderId);
      const moved = await assign(org, south, orderId);
      assert.deepEqual(
        moved.versions?.map((v) => v.streamId).sort(),
        [`order-${orderId}`, `route-${north}`, `route-${south}`].sort(),
      );
      const northEvents = (await store.readStream(org, `route-${north}`)).events.map((e) => e.type);
      assert.deepEqual(northEvents, ["dispatch.v1.RouteCreated", "dispatch.v1.StopAdded", "dispatch.v1.StopRemoved"]);
    });

    test("rules reach the caller as FAILED_PRECONDITION with their id", async () => {
      const org = randomUUID();
      const projectId = await project(org);
      const light = await order(org, projectId, 600);
      const heavy = await order(org, projectId, 500);
      const routeId = await route(org, projectId, 1000);
      await assign(org, routeId, light);
      await rejectsWithCode(assign(org, routeId, heavy), ErrorCode.FAILED_PRECONDITION, rules.routeOverCapacity);
      await rejectsWithCode(
        commands.editOrder(create(EditOrderRequestSchema, { orderId: light, weightKg: 1001 }), callContext(org)),
        ErrorCode.FAILED_PRECONDITION,
        rules.routeOverCapacity,
      );
      await commands.dispatchRoute(create(DispatchRouteRequestSchema, { routeId }), callContext(org));
      await rejectsWithCode(
        commands.cancelOrder(create(CancelOrderRequestSchema, { orderId: light }), callContext(org)),
        ErrorCode.FAILED_PRECONDITION,
        rules.orderOnDispatchedRoute,
      );
      const completed = await commands.completeRoute(create(CompleteRouteRequestSchema, { routeId }), callContext(org));
      assert.deepEqual(completed.versions?.map((v) => [v.streamId, v.version]).sort(), [
        [`order-${light}`, 3n],
        [`route-${routeId}`, 4n],
      ]);
      await rejectsWithCode(
        commands.editOrder(create(EditOrderRequestSchema, { orderId: light, address: "x" }), callContext(org)),
        ErrorCode.FAILED_PRECONDITION,
        rules.orderDelivered,
      );
    });

    test("completing a route closes its stream: no more commands, archived and still read", async () => {
      const org = randomUUID();
      const projectId = await project(org);
      const orderId = await order(org, projectId);
      const routeId = await route(org, projectId);
      await assign(org, routeId, orderId);
      await commands.dispatchRoute(create(DispatchRouteRequestSchema, { routeId }), callContext(org));
      assert.equal((await store.readStream(org, `route-${routeId}`)).closed, undefined);
      await commands.completeRoute(create(CompleteRouteRequestSchema, { routeId }), callContext(org));
      const closed = await store.readStream(org, `route-${routeId}`);
      assert.deepEqual([closed.version, closed.closed], [4n, true]);
      // The order delivered stays open: only the route is finished.
      assert.equal((await store.readStream(org, `order-${orderId}`)).closed, undefined);

      await store.archiveClosedStreams({ limit: 1000 });
      assert.deepEqual(await store.readStream(org, `route-${routeId}`), closed);
      // The domain still reads the archived route and answers with its own rule...
      await rejectsWithCode(
        commands.completeRoute(create(CompleteRouteRequestSchema, { routeId }), callContext(org)),
        ErrorCode.FAILED_PRECONDITION,
        rules.routeNotDispatched,
      );
      // ...and the store refuses any event to it whatever a handler decides.
      await rejectsWithCode(
        store.append({
          organizationId: org,
          metadata: { userId: "user-ana", commandId: randomUUID(), correlationId: randomUUID() },
          appends: [
            {
              streamId: `route-${routeId}`,
              streamType: "dispatch.route",
              expectedVersion: 4n,
              events: [create(RouteDispatchedSchema, { routeId, projectId })],
            },
          ],
          result: create(CommandAcceptedSchema),
        }),
        ErrorCode.FAILED_PRECONDITION,
        streamClosedRule,
      );
      // A command on the delivered order that guards the closed route still runs its own rules.
      await rejectsWithCode(
        commands.cancelOrder(create(CancelOrderRequestSchema, { orderId }), callContext(org)),
        ErrorCode.FAILED_PRECONDITION,
      );
    });

    test("cancelling an order on a planning route removes its stop in the same append", async () => {
      const org = randomUUID();
      const projectId = await project(org);
      const orderId = await order(org, projectId);
      const routeId = await route(org, projectId);
      await assign(org, routeId, orderId);
      await commands.cancelOrder(create(CancelOrderRequestSchema, { orderId, reason: "customer" }), callContext(org));
      const last = (await store.readStream(org, `route-${routeId}`)).events.at(-1);
      assert.equal(last?.type, "dispatch.v1.StopRemoved");
      await rejectsWithCode(assign(org, routeId, orderId), ErrorCode.FAILED_PRECONDITION, rules.orderCancelled);
    });
  });
}
