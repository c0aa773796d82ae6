import { randomUUID } from "node:crypto";
import { create, type Message } from "@bufbuild/protobuf";
import {
  CommandAcceptedSchema,
  CreateOrderResponseSchema,
  CreateProjectResponseSchema,
  CreateRouteResponseSchema,
  type CommandAccepted,
  type DispatchCommandService,
} from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { createAggregateCache, type EventStore } from "@sluice/event-store";
import type { CallContext, ServiceImpl } from "@sluice/rpc";
import { orderAggregate, projectAggregate, routeAggregate } from "../aggregates";
import type { DispatchEvent } from "../events";
import { cancelOrder, createOrder, editOrder, eraseOrderPersonalData, type OrderState } from "../order/order";
import { createProject } from "../project/project";
import {
  assignOrder,
  completeRoute,
  createRoute,
  dispatchRoute,
  existingRoute,
  reorderStops,
  unassignOrder,
  type RouteState,
} from "../route/route";
import { assertExpectedVersion } from "../rules";
import { orderStreamId, projectStreamId, routeStreamId } from "../streams";
import type { LoadStream } from "@sluice/event-store";
import { handleDispatchCommand, type Decision } from "./commandHandling";

function accepted(versions: ReadonlyMap<string, bigint>): CommandAccepted {
  return create(CommandAcceptedSchema, {
    versions: [...versions].map(([streamId, version]) => ({ streamId, version })),
  });
}

const acceptedDecision = (events: readonly DispatchEvent[]): Decision<CommandAccepted> => ({ events, reply: accepted });

/** The route an order is on, loaded when it is on one: its status decides what may happen to the order. */
async function routeOfOrder(load: LoadStream, order: OrderState): Promise<RouteState | undefined> {
  if (order.status === "none" || order.routeId === undefined) return undefined;
  return (await load(routeAggregate, routeStreamId(order.routeId))).state;
}

/** The order's route, when it has one, must not change under the decision: its status allowed it. */
function routeGuard(order: OrderState): string[] {
  return order.status !== "none" && order.routeId !== undefined ? [routeStreamId(order.routeId)] : [];
}

/**
 * Dispatch's command side: each method loads the aggregates its rules need, decides, and appends
 * through `handleDispatchCommand`. New ids are minted here, never taken from a client.
 */
export function createCommandService(store: EventStore): ServiceImpl<typeof DispatchCommandService> {
  // Aggregate states between commands; `handleCommand` trusts an entry only where an append checks its version.
  const options = { cache: createAggregateCache() };
  const handle = <R extends Message>(context: CallContext, decide: (load: LoadStream) => Promise<Decision<R>>) =>
    handleDispatchCommand(store, context, decide, options);
  return {
    createProject: (request, context) =>
      handle(context, async (load) => {
        const projectId = randomUUID();
        const project = await load(projectAggregate, projectStreamId(projectId), { minted: true });
        return {
          events: createProject(request, projectId, project.state),
          reply: (versions) => create(CreateProjectResponseSchema, { projectId, accepted: accepted(versions) }),
        };
      }),

    createOrder: (request, context) =>
      handle(context, async (load) => {
        const orderId = randomUUID();
        const project = await load(projectAggregate, projectStreamId(request.projectId));
        await load(orderAggregate, orderStreamId(orderId), { minted: true });
        return {
          events: createOrder(request, orderId, project.state),
          // The project's state allowed the order: the append checks it is unchanged (and so a cached one is current).
          guards: [projectStreamId(request.projectId)],
          reply: (versions) =>
            create(CreateOrderResponseSchema, {
              orderId,
              accepted: accepted(onlyStream(versions, orderStreamId(orderId))),
            }),
        };
      }),

    editOrder: (request, context) =>
      handle(context, async (load) => {
        const streamId = orderStreamId(request.orderId);
        const order = await load(orderAggregate, streamId);
        assertExpectedVersion(streamId, request.expectedVersion, order.version);
        const events = editOrder(request, order.state, await routeOfOrder(load, order.state));
        return { ...acceptedDecision(events), guards: routeGuard(order.state) };
      }),

    cancelOrder: (request, context) =>
      handle(context, async (load) => {
        const streamId = orderStreamId(request.orderId);
        const order = await load(orderAggregate, streamId);
        assertExpectedVersion(streamId, request.expectedVersion, order.version);
        const events = cancelOrder(request, order.state, await routeOfOrder(load, order.state));
        return { ...acceptedDecision(events), guards: routeGuard(order.state) };
      }),

    eraseOrderPersonalData: (request, context) =>
      handle(context, async (load) => {
        const order = await load(orderAggregate, orderStreamId(request.orderId));
        const events = eraseOrderPersonalData(request, order.state);
        // The key goes before the event is appended: should the append fail, the events read
        // erased already, and a retry (same or new command id) appends the erasure. The order is
        // the data subject of its personal data (proto/dispatch/v1/events.proto).
        if (events.length > 0) await store.erasePersonalData(context.session.organizationId, request.orderId);
        return acceptedDecision(events);
      }),

    createRoute: (request, context) =>
      handle(context, async (load) => {
        const routeId = randomUUID();
        const project = await load(projectAggregate, projectStreamId(request.projectId));
        await load(routeAggregate, routeStreamId(routeId), { minted: true });
        return {
          events: createRoute(request, routeId, project.state),
          guards: [projectStreamId(request.projectId)],
          reply: (versions) =>
            create(CreateRouteResponseSchema, {
              routeId,
              accepted: accepted(onlyStream(versions, routeStreamId(routeId))),
            }),
        };
      }),

    assignOrder: (request, context) =>
      handle(context, async (load) => {
        const streamId = routeStreamId(request.routeId);
        const route = await load(routeAggregate, streamId);
        assertExpectedVersion(streamId, request.expectedVersion, route.version);
        const order = await load(orderAggregate, orderStreamId(request.orderId));
        const onOtherRoute =
          order.state.status !== "none" && order.state.routeId !== undefined && order.state.routeId !== request.routeId;
        const previousRoute = onOtherRoute ? await routeOfOrder(load, order.state) : undefined;
        return acceptedDecision(assignOrder(request, { route: route.state, order: order.state, previousRoute }));
      }),

    unassignOrder: (request, context) =>
      handle(context, async (load) => {
        const streamId = routeStreamId(request.routeId);
        const route = await load(routeAggregate, streamId);
        assertExpectedVersion(streamId, request.expectedVersion, route.version);
        const order = await load(orderAggregate, orderStreamId(request.orderId));
        return acceptedDecision(unassignOrder(request, { route: route.state, order: order.state }));
      }),

    reorderStops: (request, context) =>
      handle(context, async (load) => {
        const streamId = routeStreamId(request.routeId);
        const route = await load(routeAggregate, streamId);
        assertExpectedVersion(streamId, request.expectedVersion, route.version);
        return acceptedDecision(reorderStops(request, route.state));
      }),

    dispatchRoute: (request, context) =>
      handle(context, async (load) => {
        const streamId = routeStreamId(request.routeId);
        const route = await load(routeAggregate, streamId);
        assertExpectedVersion(streamId, request.expectedVersion, route.version);
        return acceptedDecision(dispatchRoute(request, route.state));
      }),

    completeRoute: (request, context) =>
      handle(context, async (load) => {
        const route = await load(routeAggregate, routeStreamId(request.routeId));
        // Every order delivered is appended to, so every one is loaded: its version guards the append.
        for (const stop of existingRoute(route.state, request.routeId).stops)
          await load(orderAggregate, orderStreamId(stop.orderId));
        // A completed route is finished history: its stream closes with the completion.
        return { ...acceptedDecision(completeRoute(request, route.state)), closes: [routeStreamId(request.routeId)] };
      }),
  };
}

/** A create's reply names the new stream only, not the project it read. */
function onlyStream(versions: ReadonlyMap<string, bigint>, streamId: string): ReadonlyMap<string, bigint> {
  const version = versions.get(streamId);
  return new Map(version === undefined ? [] : [[streamId, version]]);
}
