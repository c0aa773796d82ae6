import { create, equals } from "@bufbuild/protobuf";
import type {
  CancelOrderRequest,
  CreateOrderRequest,
  EditOrderRequest,
  EraseOrderPersonalDataRequest,
} from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import {
  OrderCancelledSchema,
  OrderCreatedSchema,
  OrderEditedSchema,
  OrderPersonalDataErasedSchema,
  StopRemovedSchema,
  StopWeightChangedSchema,
  type OrderCreated,
} from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { TimeWindowSchema, type TimeWindow } from "@sluice/contracts/gen/dispatch/v1/types_pb";
import { RpcError } from "@sluice/rpc";
import type { DispatchEvent } from "../events";
import type { ProjectState } from "../project/project";
import { loadOf, type RouteState } from "../route/route";
import { exceedsCapacity, formatKg, rules, ruleBroken } from "../rules";

export interface OrderDetails {
  readonly orderId: string;
  readonly projectId: string;
  readonly consignee: string;
  readonly address: string;
  readonly weightKg: number;
  readonly timeWindow: TimeWindow | undefined;
}

/**
 * An order knows the route it is on, not that route's status: whether it is dispatched is the
 * route's fact, so decisions that care load the route too.
 */
export type OrderState =
  | { readonly status: "none" }
  | (OrderDetails & {
      readonly status: "open" | "on_route" | "delivered" | "cancelled";
      readonly routeId: string | undefined;
      /** Consignee, address and reasons were erased: they are empty for good. */
      readonly personalDataErased: boolean;
    });

export type ExistingOrder = Exclude<OrderState, { status: "none" }>;

export const initialOrderState = (): OrderState => ({ status: "none" });

export function evolveOrder(state: OrderState, event: DispatchEvent): OrderState {
  switch (event.$typeName) {
    case "dispatch.v1.OrderCreated":
      return { ...detailsOf(event), status: "open", routeId: undefined, personalDataErased: event.personalDataErased };
  }
  if (state.status === "none") return state;
  switch (event.$typeName) {
    case "dispatch.v1.OrderEdited":
      return { ...state, ...detailsOf(event) };
    case "dispatch.v1.OrderCancelled":
      return { ...state, status: "cancelled", routeId: undefined };
    case "dispatch.v1.OrderAssigned":
      return { ...state, status: "on_route", routeId: event.routeId };
    case "dispatch.v1.OrderUnassigned":
      return { ...state, status: "open", routeId: undefined };
    case "dispatch.v1.OrderDelivered":
      return { ...state, status: "delivered" };
    case "dispatch.v1.OrderPersonalDataErased":
      return { ...state, consignee: "", address: "", personalDataErased: true };
    default:
      return state;
  }
}

function detailsOf(
  event: Omit<OrderDetails, "timeWindow"> & { readonly timeWindow?: TimeWindow | undefined },
): OrderDetails {
  const { orderId, projectId, consignee, address, weightKg, timeWindow } = event;
  return { orderId, projectId, consignee, address, weightKg, timeWindow };
}

/** How sentences name the order: by its consignee, or by its id once that is erased. */
export function orderName(order: ExistingOrder): string {
  return order.personalDataErased ? `order ${order.orderId.slice(0, 8)}` : `order for ${order.consignee}`;
}

/** The order, or NOT_FOUND: another organization's order reads as an empty stream, so also NOT_FOUND. */
export function existingOrder(order: OrderState, orderId: string): ExistingOrder {
  if (order.status === "none") throw RpcError.notFound(`order ${orderId}`);
  return order;
}

/** Cancelled and delivered orders are history: nothing changes them any more. */
export function assertOrderChangeable(order: ExistingOrder): void {
  if (order.status === "cancelled") {
    throw ruleBroken(rules.orderCancelled, `The ${orderName(order)} is cancelled and can no longer change.`);
  }
  if (order.status === "delivered") {
    throw ruleBroken(rules.orderDelivered, `The ${orderName(order)} is delivered and can no longer change.`);
  }
}

/** An order on a route that has left the depot is the driver's now: it no longer changes. */
function assertRouteStillPlanning(order: ExistingOrder, route: RouteState | undefined, doing: string): void {
  if (order.routeId === undefined) return;
  if (route === undefined || route.status === "none" || route.routeId !== order.routeId) {
    // The handler loads the order's route; anything else is a programming error, not the caller's.
    throw new Error(`the route ${order.routeId} of order ${order.orderId} was not loaded`);
  }
  if (route.status !== "planning") {
    throw ruleBroken(
      rules.orderOnDispatchedRoute,
      `The ${orderName(order)} is on route ${route.name}, which has left the depot: it cannot be ${doing}.`,
    );
  }
}

export function createOrder(request: CreateOrderRequest, orderId: string, project: ProjectState): OrderCreated[] {
  if (project.status === "none") throw RpcError.notFound(`project ${request.projectId}`);
  return [
    create(OrderCreatedSchema, {
      orderId,
      projectId: project.projectId,
      consignee: request.consignee,
      address: request.address,
      weightKg: request.weightKg,
      timeWindow: request.timeWindow,
    }),
  ];
}

/** Fields left unset keep their value; an order on a route that weighs more must still fit the vehicle. */
export function editOrder(
  request: EditOrderRequest,
  orderState: OrderState,
  route: RouteState | undefined,
): DispatchEvent[] {
  const order = existingOrder(orderState, request.orderId);
  assertOrderChangeable(order);
  assertRouteStillPlanning(order, route, "edited");
  if (order.personalDataErased && (request.consignee !== undefined || request.address !== undefined)) {
    throw ruleBroken(
      rules.orderPersonalDataErased,
      `The personal data of ${orderName(order)} was erased: its consignee and address cannot be set again.`,
    );
  }
  const edited: OrderDetails = {
    orderId: order.orderId,
    projectId: order.projectId,
    consignee: request.consignee ?? order.consignee,
    address: request.address ?? order.address,
    weightKg: request.weightKg ?? order.weightKg,
    timeWindow: request.timeWindow ?? order.timeWindow,
  };
  const weightChanged = edited.weightKg !== order.weightKg;
  const changed =
    weightChanged ||
    edited.consignee !== order.consignee ||
    edited.address !== order.address ||
    !sameTimeWindow(edited.timeWindow, order.timeWindow);
  if (!changed) return [];

  const events: DispatchEvent[] = [create(OrderEditedSchema, { ...edited, routeId: order.routeId ?? "" })];
  if (weightChanged && order.routeId !== undefined && route?.status === "planning") {
    const load = loadOf(route) - order.weightKg + edited.weightKg;
    if (exceedsCapacity(load, route.vehicleCapacityKg)) {
      throw ruleBroken(
        rules.routeOverCapacity,
        `At ${formatKg(edited.weightKg)} the ${orderName(order)} would load route ${route.name} with ` +
          `${formatKg(load)}, over its ${formatKg(route.vehicleCapacityKg)} capacity.`,
      );
    }
    events.push(
      create(StopWeightChangedSchema, {
        routeId: route.routeId,
        projectId: route.projectId,
        orderId: order.orderId,
        weightKg: edited.weightKg,
      }),
    );
  }
  return events;
}

/** A cancelled order leaves its route, so the route's stops and load stay true. */
export function cancelOrder(
  request: CancelOrderRequest,
  orderState: OrderState,
  route: RouteState | undefined,
): DispatchEvent[] {
  const order = existingOrder(orderState, request.orderId);
  assertOrderChangeable(order);
  assertRouteStillPlanning(order, route, "cancelled");
  if (order.personalDataErased && request.reason !== "") {
    throw ruleBroken(
      rules.orderPersonalDataErased,
      `The personal data of ${orderName(order)} was erased: cancel it without a reason, which could name the consignee.`,
    );
  }
  const events: DispatchEvent[] = [
    create(OrderCancelledSchema, {
      orderId: order.orderId,
      projectId: order.projectId,
      reason: request.reason,
      routeId: order.routeId ?? "",
    }),
  ];
  if (order.routeId !== undefined && route?.status === "planning") {
    events.push(
      create(StopRemovedSchema, { routeId: route.routeId, projectId: route.projectId, orderId: order.orderId }),
    );
  }
  return events;
}

/**
 * Erases the order's personal data, in any status: the order stays, without consignee, address and
 * reasons. Erasing again decides nothing. The route is named so the erasure reaches its sheet.
 */
export function eraseOrderPersonalData(
  request: EraseOrderPersonalDataRequest,
  orderState: OrderState,
): DispatchEvent[] {
  const order = existingOrder(orderState, request.orderId);
  if (order.personalDataErased) return [];
  return [
    create(OrderPersonalDataErasedSchema, {
      orderId: order.orderId,
      projectId: order.projectId,
      routeId: order.routeId ?? "",
    }),
  ];
}

function sameTimeWindow(a: TimeWindow | undefined, b: TimeWindow | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return equals(TimeWindowSchema, a, b);
}
