import { create } from "@bufbuild/protobuf";
import type {
  AssignOrderRequest,
  CompleteRouteRequest,
  CreateRouteRequest,
  DispatchRouteRequest,
  ReorderStopsRequest,
  UnassignOrderRequest,
} from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import {
  OrderAssignedSchema,
  OrderDeliveredSchema,
  OrderUnassignedSchema,
  RouteCompletedSchema,
  RouteCreatedSchema,
  RouteDispatchedSchema,
  StopAddedSchema,
  StopRemovedSchema,
  StopsReorderedSchema,
  type RouteCreated,
} from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { RpcError } from "@sluice/rpc";
import type { DispatchEvent } from "../events";
import { assertOrderChangeable, existingOrder, orderName, type OrderState } from "../order/order";
import type { ProjectState } from "../project/project";
import { exceedsCapacity, formatKg, rules, ruleBroken } from "../rules";

export interface Stop {
  readonly orderId: string;
  readonly weightKg: number;
}

export type RouteState =
  | { readonly status: "none" }
  | {
      readonly status: "planning" | "dispatched" | "completed";
      readonly routeId: string;
      readonly projectId: string;
      readonly name: string;
      readonly vehicleCapacityKg: number;
      readonly stops: readonly Stop[];
    };

export type ExistingRoute = Exclude<RouteState, { status: "none" }>;

export const initialRouteState = (): RouteState => ({ status: "none" });

export function evolveRoute(state: RouteState, event: DispatchEvent): RouteState {
  if (event.$typeName === "dispatch.v1.RouteCreated") {
    const { routeId, projectId, name, vehicleCapacityKg } = event;
    return { status: "planning", routeId, projectId, name, vehicleCapacityKg, stops: [] };
  }
  if (state.status === "none") return state;
  switch (event.$typeName) {
    case "dispatch.v1.StopAdded": {
      const stops = state.stops.filter((stop) => stop.orderId !== event.orderId);
      stops.splice(event.position, 0, { orderId: event.orderId, weightKg: event.weightKg });
      return { ...state, stops };
    }
    case "dispatch.v1.StopRemoved":
      return { ...state, stops: state.stops.filter((stop) => stop.orderId !== event.orderId) };
    case "dispatch.v1.StopsReordered": {
      const byOrder = new Map(state.stops.map((stop) => [stop.orderId, stop]));
      return { ...state, stops: event.orderIds.flatMap((orderId) => byOrder.get(orderId) ?? []) };
    }
    case "dispatch.v1.StopWeightChanged":
      return {
        ...state,
        stops: state.stops.map((stop) =>
          stop.orderId === event.orderId ? { ...stop, weightKg: event.weightKg } : stop,
        ),
      };
    case "dispatch.v1.RouteDispatched":
      return { ...state, status: "dispatched" };
    case "dispatch.v1.RouteCompleted":
      return { ...state, status: "completed" };
    default:
      return state;
  }
}

/** The sum of the stops' weights. */
export function loadOf(route: ExistingRoute): number {
  return route.stops.reduce((sum, stop) => sum + stop.weightKg, 0);
}

export function existingRoute(route: RouteState, routeId: string): ExistingRoute {
  if (route.status === "none") throw RpcError.notFound(`route ${routeId}`);
  return route;
}

/** Once a route has left the depot its stops are what the driver has: no additions, removals or reorders. */
function assertPlanning(route: ExistingRoute): void {
  if (route.status !== "planning") {
    throw ruleBroken(rules.routeNotPlanning, `Route ${route.name} is ${route.status}: its stops can no longer change.`);
  }
}

export function createRoute(request: CreateRouteRequest, routeId: string, project: ProjectState): RouteCreated[] {
  if (project.status === "none") throw RpcError.notFound(`project ${request.projectId}`);
  return [
    create(RouteCreatedSchema, {
      routeId,
      projectId: project.projectId,
      name: request.name,
      vehicleCapacityKg: request.vehicleCapacityKg,
    }),
  ];
}

export interface AssignOrderStates {
  readonly route: RouteState;
  readonly order: OrderState;
  /** The route the order is on now, when it is on one. */
  readonly previousRoute?: RouteState | undefined;
}

/**
 * Puts an order on the route at a position (past the end appends). An order is on at most one
 * route: one on another route still being planned moves from there.
 */
export function assignOrder(request: AssignOrderRequest, states: AssignOrderStates): DispatchEvent[] {
  const route = existingRoute(states.route, request.routeId);
  const order = existingOrder(states.order, request.orderId);
  assertOrderChangeable(order);
  assertPlanning(route);
  if (order.projectId !== route.projectId) {
    throw ruleBroken(
      rules.projectMismatch,
      `The ${orderName(order)} belongs to another project than route ${route.name}.`,
    );
  }
  if (order.routeId === route.routeId) {
    throw ruleBroken(
      rules.orderAlreadyOnRoute,
      `The ${orderName(order)} is already on route ${route.name}; reorder the stops to move it.`,
    );
  }
  const events: DispatchEvent[] = [];
  if (order.routeId !== undefined) {
    const previous = states.previousRoute;
    if (previous === undefined || previous.status === "none" || previous.routeId !== order.routeId) {
      throw new Error(`the route ${order.routeId} of order ${order.orderId} was not loaded`);
    }
    if (previous.status !== "planning") {
      throw ruleBroken(
        rules.orderOnDispatchedRoute,
        `The ${orderName(order)} is on route ${previous.name}, which has left the depot: it cannot move.`,
      );
    }
    events.push(
      create(StopRemovedSchema, { routeId: previous.routeId, projectId: previous.projectId, orderId: order.orderId }),
    );
  }
  const load = loadOf(route) + order.weightKg;
  if (exceedsCapacity(load, route.vehicleCapacityKg)) {
    throw ruleBroken(
      rules.routeOverCapacity,
      `The ${orderName(order)} (${formatKg(order.weightKg)}) would load route ${route.name} with ` +
        `${formatKg(load)}, over its ${formatKg(route.vehicleCapacityKg)} capacity.`,
    );
  }
  events.push(
    create(StopAddedSchema, {
      routeId: route.routeId,
      projectId: route.projectId,
      orderId: order.orderId,
      position: Math.min(request.position, route.stops.length),
      weightKg: order.weightKg,
    }),
    create(OrderAssignedSchema, { orderId: order.orderId, projectId: order.projectId, routeId: route.routeId }),
  );
  return events;
}

export function unassignOrder(
  request: UnassignOrderRequest,
  states: { route: RouteState; order: OrderState },
): DispatchEvent[] {
  const route = existingRoute(states.route, request.routeId);
  const order = existingOrder(states.order, request.orderId);
  assertPlanning(route);
  if (!route.stops.some((stop) => stop.orderId === order.orderId)) {
    throw ruleBroken(rules.orderNotOnRoute, `The ${orderName(order)} is not on route ${route.name}.`);
  }
  return [
    create(StopRemovedSchema, { routeId: route.routeId, projectId: route.projectId, orderId: order.orderId }),
    create(OrderUnassignedSchema, { orderId: order.orderId, projectId: order.projectId, routeId: route.routeId }),
  ];
}

/** The new order must name every stop of the route exactly once: a stale list would drop or invent stops. */
export function reorderStops(request: ReorderStopsRequest, routeState: RouteState): DispatchEvent[] {
  const route = existingRoute(routeState, request.routeId);
  assertPlanning(route);
  const current = new Set(route.stops.map((stop) => stop.orderId));
  const listed = new Set(request.orderIds);
  const exact =
    listed.size === request.orderIds.length &&
    listed.size === current.size &&
    request.orderIds.every((orderId) => current.has(orderId));
  if (!exact) {
    throw ruleBroken(
      rules.routeReorderMismatch,
      `Route ${route.name} has ${current.size} stops; the new order must list each of them exactly once.`,
    );
  }
  if (request.orderIds.every((orderId, index) => route.stops[index]?.orderId === orderId)) return [];
  return [
    create(StopsReorderedSchema, { routeId: route.routeId, projectId: route.projectId, orderIds: request.orderIds }),
  ];
}

export function dispatchRoute(request: DispatchRouteRequest, routeState: RouteState): DispatchEvent[] {
  const route = existingRoute(routeState, request.routeId);
  assertPlanning(route);
  if (route.stops.length === 0) throw ruleBroken(rules.routeEmpty, `Route ${route.name} has no stops to dispatch.`);
  return [create(RouteDispatchedSchema, { routeId: route.routeId, projectId: route.projectId })];
}

/** Completing a route delivers every order still on it. */
export function completeRoute(request: CompleteRouteRequest, routeState: RouteState): DispatchEvent[] {
  const route = existingRoute(routeState, request.routeId);
  if (route.status !== "dispatched") {
    throw ruleBroken(
      rules.routeNotDispatched,
      `Route ${route.name} is ${route.status}: only a dispatched route can be completed.`,
    );
  }
  return [
    create(RouteCompletedSchema, { routeId: route.routeId, projectId: route.projectId }),
    ...route.stops.map((stop) =>
      create(OrderDeliveredSchema, { orderId: stop.orderId, projectId: route.projectId, routeId: route.routeId }),
    ),
  ];
}
