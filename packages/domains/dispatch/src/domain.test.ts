import assert from "node:assert/strict";
import { describe, test } from "node:test";
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
  EraseOrderPersonalDataRequestSchema,
  ReorderStopsRequestSchema,
  UnassignOrderRequestSchema,
} from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import {
  OrderAssignedSchema,
  OrderCreatedSchema,
  ProjectCreatedSchema,
  RouteCreatedSchema,
  RouteDispatchedSchema,
  StopAddedSchema,
  type StopAdded,
  type StopWeightChanged,
} from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { TimeWindowSchema } from "@sluice/contracts/gen/dispatch/v1/types_pb";
import { ErrorCode } from "@sluice/contracts/gen/sluice/v1/errors_pb";
import type { DispatchEvent } from "./events";
import { streamOf } from "./events";
import {
  cancelOrder,
  createOrder,
  editOrder,
  eraseOrderPersonalData,
  evolveOrder,
  initialOrderState,
  type OrderState,
} from "./order/order";
import { createProject, evolveProject, initialProjectState } from "./project/project";
import {
  assignOrder,
  completeRoute,
  createRoute,
  dispatchRoute,
  evolveRoute,
  initialRouteState,
  loadOf,
  reorderStops,
  unassignOrder,
  type RouteState,
} from "./route/route";
import { assertExpectedVersion, rules } from "./rules";
import { assertRuleBroken, assertThrowsCode, fold, typesOf } from "./testSupport";

const P = "11111111-1111-4111-8111-111111111111";
const P2 = "22222222-2222-4222-8222-222222222222";
const R1 = "aaaaaaaa-0000-4000-8000-000000000001";
const R2 = "aaaaaaaa-0000-4000-8000-000000000002";
const O1 = "bbbbbbbb-0000-4000-8000-000000000001";
const O2 = "bbbbbbbb-0000-4000-8000-000000000002";
const O3 = "bbbbbbbb-0000-4000-8000-000000000003";

const orderCreated = (orderId: string, weightKg: number, projectId = P) =>
  create(OrderCreatedSchema, { orderId, projectId, consignee: `C-${orderId.slice(-1)}`, address: "Kade 1", weightKg });
const routeCreated = (routeId: string, capacity: number, projectId = P) =>
  create(RouteCreatedSchema, { routeId, projectId, name: `Route ${routeId.slice(-1)}`, vehicleCapacityKg: capacity });
const stopAdded = (routeId: string, orderId: string, position: number, weightKg: number) =>
  create(StopAddedSchema, { routeId, projectId: P, orderId, position, weightKg });
const assigned = (orderId: string, routeId: string) => create(OrderAssignedSchema, { orderId, projectId: P, routeId });

const order = (...events: DispatchEvent[]): OrderState => fold(evolveOrder, initialOrderState(), events);
const route = (...events: DispatchEvent[]): RouteState => fold(evolveRoute, initialRouteState(), events);

/** Route 1 (capacity 1000) planning with O1 (300 kg) and O2 (200 kg) on it. */
const route1 = () => route(routeCreated(R1, 1000), stopAdded(R1, O1, 0, 300), stopAdded(R1, O2, 1, 200));
const o1OnRoute1 = () => order(orderCreated(O1, 300), assigned(O1, R1));
const dispatched = (state: RouteState) =>
  evolveRoute(state, create(RouteDispatchedSchema, { routeId: R1, projectId: P }));

describe("project", () => {
  test("is created once", () => {
    const events = createProject(create(CreateProjectRequestSchema, { name: "Depot" }), P, initialProjectState());
    assert.deepEqual(typesOf(events), ["ProjectCreated"]);
    const state = fold(evolveProject, initialProjectState(), events);
    assert.deepEqual(state, { status: "active", projectId: P, name: "Depot" });
    assertRuleBroken(
      () => createProject(create(CreateProjectRequestSchema, { name: "Again" }), P, state),
      rules.alreadyExists,
    );
  });
});

describe("order", () => {
  const project = evolveProject(initialProjectState(), create(ProjectCreatedSchema, { projectId: P, name: "Depot" }));

  test("is created in an existing project only", () => {
    const request = create(CreateOrderRequestSchema, {
      projectId: P,
      consignee: "ACME",
      address: "Kade 1",
      weightKg: 120,
    });
    const events = createOrder(request, O1, project);
    assert.equal(events[0]?.weightKg, 120);
    assert.equal(events[0]?.projectId, P);
    assert.equal(order(...events).status, "open");
    assertThrowsCode(() => createOrder(request, O1, initialProjectState()), ErrorCode.NOT_FOUND);
  });

  test("edit keeps unset fields and emits the whole order", () => {
    const events = editOrder(
      create(EditOrderRequestSchema, { orderId: O1, address: "Dam 2" }),
      order(orderCreated(O1, 300)),
      undefined,
    );
    assert.deepEqual(typesOf(events), ["OrderEdited"]);
    const edited = order(orderCreated(O1, 300), ...events);
    assert.ok(edited.status === "open");
    assert.equal(edited.address, "Dam 2");
    assert.equal(edited.consignee, "C-1");
    assert.equal(edited.weightKg, 300);
  });

  test("an edit that changes nothing is no event", () => {
    const request = create(EditOrderRequestSchema, { orderId: O1, consignee: "C-1" });
    assert.deepEqual(editOrder(request, order(orderCreated(O1, 300)), undefined), []);
  });

  test("time window edits compare by value", () => {
    const window = (start: number) =>
      create(TimeWindowSchema, { start: timestampFromMs(start), end: timestampFromMs(start + 3_600_000) });
    const base = order(create(OrderCreatedSchema, { ...orderCreated(O1, 1), timeWindow: window(0) }));
    assert.deepEqual(
      editOrder(create(EditOrderRequestSchema, { orderId: O1, timeWindow: window(0) }), base, undefined),
      [],
    );
    assert.equal(
      editOrder(create(EditOrderRequestSchema, { orderId: O1, timeWindow: window(1) }), base, undefined).length,
      1,
    );
  });

  test("unknown order is NOT_FOUND", () => {
    assertThrowsCode(
      () => editOrder(create(EditOrderRequestSchema, { orderId: O1 }), initialOrderState(), undefined),
      ErrorCode.NOT_FOUND,
    );
    assertThrowsCode(
      () => cancelOrder(create(CancelOrderRequestSchema, { orderId: O1 }), initialOrderState(), undefined),
      ErrorCode.NOT_FOUND,
    );
  });

  test("heavier order on a route changes the stop's weight within capacity", () => {
    const events = editOrder(create(EditOrderRequestSchema, { orderId: O1, weightKg: 800 }), o1OnRoute1(), route1());
    assert.deepEqual(typesOf(events), ["OrderEdited", "StopWeightChanged"]);
    assert.equal((events[1] as StopWeightChanged).weightKg, 800);
    assert.equal(streamOf(events[1]!).streamId, `route-${R1}`);
    const after = fold(evolveRoute, route1(), events);
    assert.ok(after.status === "planning");
    assert.equal(loadOf(after), 1000);
  });

  test("heavier order may not overload its route", () => {
    assertRuleBroken(
      () => editOrder(create(EditOrderRequestSchema, { orderId: O1, weightKg: 801 }), o1OnRoute1(), route1()),
      rules.routeOverCapacity,
    );
  });

  test("an order on a dispatched route cannot be edited or cancelled", () => {
    const onTheRoad = dispatched(route1());
    assertRuleBroken(
      () => editOrder(create(EditOrderRequestSchema, { orderId: O1, address: "Elsewhere" }), o1OnRoute1(), onTheRoad),
      rules.orderOnDispatchedRoute,
    );
    assertRuleBroken(
      () => cancelOrder(create(CancelOrderRequestSchema, { orderId: O1 }), o1OnRoute1(), onTheRoad),
      rules.orderOnDispatchedRoute,
    );
  });

  test("a cancelled order leaves its route", () => {
    const events = cancelOrder(
      create(CancelOrderRequestSchema, { orderId: O1, reason: "customer" }),
      o1OnRoute1(),
      route1(),
    );
    assert.deepEqual(typesOf(events), ["OrderCancelled", "StopRemoved"]);
    assert.deepEqual(
      events.map((event) => streamOf(event).streamId),
      [`order-${O1}`, `route-${R1}`],
    );
    const after = fold(evolveRoute, route1(), events);
    assert.ok(after.status === "planning");
    assert.deepEqual(
      after.stops.map((stop) => stop.orderId),
      [O2],
    );
  });

  test("a cancelled order cannot be edited, cancelled again or assigned", () => {
    const cancelled = fold(
      evolveOrder,
      o1OnRoute1(),
      cancelOrder(create(CancelOrderRequestSchema, { orderId: O1 }), o1OnRoute1(), route1()),
    );
    assert.equal(cancelled.status, "cancelled");
    assertRuleBroken(
      () => editOrder(create(EditOrderRequestSchema, { orderId: O1, weightKg: 1 }), cancelled, undefined),
      rules.orderCancelled,
    );
    assertRuleBroken(
      () => cancelOrder(create(CancelOrderRequestSchema, { orderId: O1 }), cancelled, undefined),
      rules.orderCancelled,
    );
    assertRuleBroken(
      () =>
        assignOrder(create(AssignOrderRequestSchema, { routeId: R2, orderId: O1 }), {
          route: route(routeCreated(R2, 1000)),
          order: cancelled,
        }),
      rules.orderCancelled,
    );
  });

  test("erasing personal data blanks it once; afterwards none is taken again", () => {
    const erase = create(EraseOrderPersonalDataRequestSchema, { orderId: O1 });
    const events = eraseOrderPersonalData(erase, o1OnRoute1());
    assert.deepEqual(typesOf(events), ["OrderPersonalDataErased"]);
    // It names the order's route, so the route's channel hears of it.
    assert.deepEqual(events[0] && "routeId" in events[0] && events[0].routeId, R1);
    const erased = fold(evolveOrder, o1OnRoute1(), events);
    assert.ok(erased.status === "on_route" && erased.personalDataErased);
    assert.deepEqual([erased.consignee, erased.address], ["", ""]);
    assert.deepEqual(eraseOrderPersonalData(erase, erased), []);
    assertRuleBroken(
      () => editOrder(create(EditOrderRequestSchema, { orderId: O1, address: "Dam 1" }), erased, route1()),
      rules.orderPersonalDataErased,
    );
    assertRuleBroken(
      () => cancelOrder(create(CancelOrderRequestSchema, { orderId: O1, reason: "moved" }), erased, route1()),
      rules.orderPersonalDataErased,
    );
    assert.deepEqual(
      typesOf(editOrder(create(EditOrderRequestSchema, { orderId: O1, weightKg: 1 }), erased, route1())),
      ["OrderEdited", "StopWeightChanged"],
    );
    assertThrowsCode(() => eraseOrderPersonalData(erase, initialOrderState()), ErrorCode.NOT_FOUND);
  });
});

describe("route", () => {
  const project = evolveProject(initialProjectState(), create(ProjectCreatedSchema, { projectId: P, name: "Depot" }));

  test("is created in an existing project only", () => {
    const request = create(CreateRouteRequestSchema, { projectId: P, name: "North", vehicleCapacityKg: 1000 });
    const state = route(...createRoute(request, R1, project));
    assert.ok(state.status === "planning");
    assert.deepEqual(state.stops, []);
    assertThrowsCode(() => createRoute(request, R1, initialProjectState()), ErrorCode.NOT_FOUND);
  });

  test("assign adds a stop at the position, past the end appends", () => {
    const request = create(AssignOrderRequestSchema, { routeId: R1, orderId: O3, position: 1 });
    const events = assignOrder(request, { route: route1(), order: order(orderCreated(O3, 100)) });
    assert.deepEqual(typesOf(events), ["StopAdded", "OrderAssigned"]);
    const after = fold(evolveRoute, route1(), events);
    assert.ok(after.status === "planning");
    assert.deepEqual(
      after.stops.map((stop) => stop.orderId),
      [O1, O3, O2],
    );
    const appended = assignOrder(create(AssignOrderRequestSchema, { routeId: R1, orderId: O3, position: 99 }), {
      route: route1(),
      order: order(orderCreated(O3, 100)),
    });
    assert.equal((appended[0] as StopAdded).position, 2);
    assert.equal(fold(evolveOrder, order(orderCreated(O3, 100)), events).status, "on_route");
  });

  test("assigning an order on another planning route moves it", () => {
    const request = create(AssignOrderRequestSchema, { routeId: R2, orderId: O1 });
    const events = assignOrder(request, {
      route: route(routeCreated(R2, 500)),
      order: o1OnRoute1(),
      previousRoute: route1(),
    });
    assert.deepEqual(typesOf(events), ["StopRemoved", "StopAdded", "OrderAssigned"]);
    assert.deepEqual(
      events.map((event) => streamOf(event).streamId),
      [`route-${R1}`, `route-${R2}`, `order-${O1}`],
    );
    const moved = fold(evolveOrder, o1OnRoute1(), events);
    assert.ok(moved.status === "on_route");
    assert.equal(moved.routeId, R2);
  });

  test("an order on a dispatched route does not move", () => {
    const request = create(AssignOrderRequestSchema, { routeId: R2, orderId: O1 });
    assertRuleBroken(
      () =>
        assignOrder(request, {
          route: route(routeCreated(R2, 500)),
          order: o1OnRoute1(),
          previousRoute: dispatched(route1()),
        }),
      rules.orderOnDispatchedRoute,
    );
  });

  test("an order already on this route is not added twice", () => {
    assertRuleBroken(
      () =>
        assignOrder(create(AssignOrderRequestSchema, { routeId: R1, orderId: O1 }), {
          route: route1(),
          order: o1OnRoute1(),
        }),
      rules.orderAlreadyOnRoute,
    );
  });

  test("the load stays within capacity", () => {
    const request = create(AssignOrderRequestSchema, { routeId: R1, orderId: O3 });
    assert.equal(assignOrder(request, { route: route1(), order: order(orderCreated(O3, 500)) }).length, 2);
    assertRuleBroken(
      () => assignOrder(request, { route: route1(), order: order(orderCreated(O3, 500.5)) }),
      rules.routeOverCapacity,
    );
  });

  test("orders and routes belong to the same project", () => {
    const request = create(AssignOrderRequestSchema, { routeId: R1, orderId: O3 });
    assertRuleBroken(
      () => assignOrder(request, { route: route1(), order: order(orderCreated(O3, 1, P2)) }),
      rules.projectMismatch,
    );
  });

  test("unknown route or order is NOT_FOUND", () => {
    const request = create(AssignOrderRequestSchema, { routeId: R1, orderId: O3 });
    assertThrowsCode(
      () => assignOrder(request, { route: initialRouteState(), order: order(orderCreated(O3, 1)) }),
      ErrorCode.NOT_FOUND,
    );
    assertThrowsCode(() => assignOrder(request, { route: route1(), order: initialOrderState() }), ErrorCode.NOT_FOUND);
    assertThrowsCode(
      () => dispatchRoute(create(DispatchRouteRequestSchema, { routeId: R1 }), initialRouteState()),
      ErrorCode.NOT_FOUND,
    );
  });

  test("a dispatched or completed route takes no new stops, removals or reorders", () => {
    const onTheRoad = dispatched(route1());
    const completed = fold(
      evolveRoute,
      onTheRoad,
      completeRoute(create(CompleteRouteRequestSchema, { routeId: R1 }), onTheRoad),
    );
    for (const state of [onTheRoad, completed]) {
      assertRuleBroken(
        () =>
          assignOrder(create(AssignOrderRequestSchema, { routeId: R1, orderId: O3 }), {
            route: state,
            order: order(orderCreated(O3, 1)),
          }),
        rules.routeNotPlanning,
      );
      assertRuleBroken(
        () =>
          unassignOrder(create(UnassignOrderRequestSchema, { routeId: R1, orderId: O1 }), {
            route: state,
            order: o1OnRoute1(),
          }),
        rules.routeNotPlanning,
      );
      assertRuleBroken(
        () => reorderStops(create(ReorderStopsRequestSchema, { routeId: R1, orderIds: [O2, O1] }), state),
        rules.routeNotPlanning,
      );
      assertRuleBroken(
        () => dispatchRoute(create(DispatchRouteRequestSchema, { routeId: R1 }), state),
        rules.routeNotPlanning,
      );
    }
  });

  test("unassign removes the stop and frees the order", () => {
    const events = unassignOrder(create(UnassignOrderRequestSchema, { routeId: R1, orderId: O1 }), {
      route: route1(),
      order: o1OnRoute1(),
    });
    assert.deepEqual(typesOf(events), ["StopRemoved", "OrderUnassigned"]);
    assert.equal(fold(evolveOrder, o1OnRoute1(), events).status, "open");
    assertRuleBroken(
      () =>
        unassignOrder(create(UnassignOrderRequestSchema, { routeId: R1, orderId: O3 }), {
          route: route1(),
          order: order(orderCreated(O3, 1)),
        }),
      rules.orderNotOnRoute,
    );
  });

  test("reorder must list exactly the route's stops", () => {
    const reorder = (orderIds: string[]) =>
      reorderStops(create(ReorderStopsRequestSchema, { routeId: R1, orderIds }), route1());
    const events = reorder([O2, O1]);
    assert.deepEqual(typesOf(events), ["StopsReordered"]);
    const after = fold(evolveRoute, route1(), events);
    assert.ok(after.status === "planning");
    assert.deepEqual(after.stops, [
      { orderId: O2, weightKg: 200 },
      { orderId: O1, weightKg: 300 },
    ]);
    assert.deepEqual(reorder([O1, O2]), []);
    assertRuleBroken(() => reorder([O1]), rules.routeReorderMismatch);
    assertRuleBroken(() => reorder([O1, O2, O3]), rules.routeReorderMismatch);
    assertRuleBroken(() => reorder([O1, O3]), rules.routeReorderMismatch);
    assertRuleBroken(() => reorder([O1, O1]), rules.routeReorderMismatch);
  });

  test("a route with no stops cannot be dispatched", () => {
    assertRuleBroken(
      () => dispatchRoute(create(DispatchRouteRequestSchema, { routeId: R1 }), route(routeCreated(R1, 10))),
      rules.routeEmpty,
    );
    assert.deepEqual(typesOf(dispatchRoute(create(DispatchRouteRequestSchema, { routeId: R1 }), route1())), [
      "RouteDispatched",
    ]);
  });

  test("only a dispatched route completes, delivering its orders", () => {
    assertRuleBroken(
      () => completeRoute(create(CompleteRouteRequestSchema, { routeId: R1 }), route1()),
      rules.routeNotDispatched,
    );
    const events = completeRoute(create(CompleteRouteRequestSchema, { routeId: R1 }), dispatched(route1()));
    assert.deepEqual(typesOf(events), ["RouteCompleted", "OrderDelivered", "OrderDelivered"]);
    assert.deepEqual(
      events.map((event) => streamOf(event).streamId),
      [`route-${R1}`, `order-${O1}`, `order-${O2}`],
    );
    const delivered = fold(
      evolveOrder,
      o1OnRoute1(),
      events.filter((event) => streamOf(event).streamId === `order-${O1}`),
    );
    assert.equal(delivered.status, "delivered");
    assertRuleBroken(
      () => editOrder(create(EditOrderRequestSchema, { orderId: O1, weightKg: 1 }), delivered, undefined),
      rules.orderDelivered,
    );
  });
});

describe("expected version", () => {
  test("when set, must equal the stream's version", () => {
    assertExpectedVersion("order-x", undefined, 3n);
    assertExpectedVersion("order-x", 3n, 3n);
    assertThrowsCode(() => assertExpectedVersion("order-x", 2n, 3n), ErrorCode.CONFLICT);
  });
});
