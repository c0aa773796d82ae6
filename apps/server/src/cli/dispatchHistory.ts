// A Dispatch-like log for tests and benchmarks: projects' lives as dispatchers make them, command by
// command, appended through the event store as the command service would.
import { randomUUID } from "node:crypto";
import { create, type Message } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { CommandAcceptedSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import {
  OrderAssignedSchema,
  OrderCancelledSchema,
  OrderCreatedSchema,
  OrderDeliveredSchema,
  OrderEditedSchema,
  ProjectCreatedSchema,
  RouteCompletedSchema,
  RouteCreatedSchema,
  RouteDispatchedSchema,
  StopAddedSchema,
} from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { orderStreamId, projectStreamId, routeStreamId, streamTypes } from "@sluice/dispatch";
import type { EventStore, StreamAppend } from "@sluice/event-store";

/** Streams of one command: appended in one call, in this order. */
type Step = readonly StreamAppend[];

const append = (streamId: string, streamType: string, events: Message[]): StreamAppend => ({
  streamId,
  streamType,
  expectedVersion: "any",
  events,
});

/**
 * One project's life as dispatchers make it, command by command: the project, 4 routes and 40
 * orders; 30% of orders edited; 80% put on a route (OrderAssigned and StopAdded, one command);
 * routes dispatched; assigned orders delivered, routes completed; half the others cancelled.
 * About 190 events; deterministic but for the ids.
 */
export function projectHistory(index: number): Step[] {
  const projectId = randomUUID();
  const routes = Array.from({ length: 4 }, (_, r) => ({ routeId: randomUUID(), stops: [] as string[], r }));
  const orders = Array.from({ length: 40 }, (_, o) => ({ orderId: randomUUID(), o }));
  const steps: Step[] = [
    [
      append(projectStreamId(projectId), streamTypes.project, [
        create(ProjectCreatedSchema, { projectId, name: `Depot ${index}` }),
      ]),
    ],
  ];
  for (const route of routes) {
    steps.push([
      append(routeStreamId(route.routeId), streamTypes.route, [
        create(RouteCreatedSchema, {
          routeId: route.routeId,
          projectId,
          name: `Route ${route.r}`,
          vehicleCapacityKg: 4000,
        }),
      ]),
    ]);
  }
  const day = Date.UTC(2026, 10, 26);
  for (const { orderId, o } of orders) {
    const window = { start: timestampFromMs(day + o * 600_000), end: timestampFromMs(day + o * 600_000 + 7_200_000) };
    const details = { orderId, projectId, address: `Harbour Street ${o}, Rotterdam`, timeWindow: window };
    steps.push([
      append(orderStreamId(orderId), streamTypes.order, [
        create(OrderCreatedSchema, { ...details, consignee: `Consignee ${index}-${o}`, weightKg: 50 + o }),
      ]),
    ]);
    if (o % 10 < 3) {
      steps.push([
        append(orderStreamId(orderId), streamTypes.order, [
          create(OrderEditedSchema, { ...details, consignee: `Consignee ${index}-${o} BV`, weightKg: 60 + o }),
        ]),
      ]);
    }
  }
  const assigned = orders.filter(({ o }) => o % 10 < 8);
  for (const { orderId, o } of assigned) {
    const route = routes[o % routes.length]!;
    steps.push([
      append(orderStreamId(orderId), streamTypes.order, [
        create(OrderAssignedSchema, { orderId, projectId, routeId: route.routeId }),
      ]),
      append(routeStreamId(route.routeId), streamTypes.route, [
        create(StopAddedSchema, {
          routeId: route.routeId,
          projectId,
          orderId,
          position: route.stops.length,
          weightKg: 50 + o,
        }),
      ]),
    ]);
    route.stops.push(orderId);
  }
  for (const { orderId, o } of orders.filter(({ o }) => o % 10 === 9)) {
    steps.push([
      append(orderStreamId(orderId), streamTypes.order, [
        create(OrderCancelledSchema, { orderId, projectId, reason: `cancelled ${o}` }),
      ]),
    ]);
  }
  for (const route of routes) {
    steps.push([
      append(routeStreamId(route.routeId), streamTypes.route, [
        create(RouteDispatchedSchema, { routeId: route.routeId, projectId }),
      ]),
    ]);
  }
  for (const route of routes) {
    for (const orderId of route.stops) {
      steps.push([
        append(orderStreamId(orderId), streamTypes.order, [
          create(OrderDeliveredSchema, { orderId, projectId, routeId: route.routeId }),
        ]),
      ]);
    }
    steps.push([
      append(routeStreamId(route.routeId), streamTypes.route, [
        create(RouteCompletedSchema, { routeId: route.routeId, projectId }),
      ]),
    ]);
  }
  return steps;
}

export const eventsIn = (steps: readonly Step[]) =>
  steps.reduce((sum, step) => sum + step.reduce((n, stream) => n + stream.events.length, 0), 0);

/**
 * Appends projects' histories, one command per step, `concurrency` projects at a time (group
 * commit batches them), until at least `events` events; `onProgress` at most once a second.
 */
export async function fillDispatchLog(
  store: EventStore,
  organizations: readonly string[],
  events: number,
  concurrency: number,
  onProgress: (appended: number, eventsPerSecond: number) => void = () => {},
): Promise<number> {
  let appended = 0;
  let next = 0;
  const started = performance.now();
  let lastReport = started;
  const report = (force = false) => {
    const now = performance.now();
    if (!force && now - lastReport < 1000) return;
    lastReport = now;
    onProgress(appended, appended / ((now - started) / 1000));
  };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (appended < events) {
        const index = next++;
        const steps = projectHistory(index);
        appended += eventsIn(steps);
        const organizationId = organizations[index % organizations.length]!;
        for (const step of steps) {
          const commandId = randomUUID();
          await store.append({
            organizationId,
            metadata: { userId: `user-${index % 7}`, commandId, correlationId: commandId },
            appends: step,
            result: create(CommandAcceptedSchema, {}),
          });
        }
        report();
      }
    }),
  );
  report(true);
  return appended;
}
