import type { Message } from "@bufbuild/protobuf";
import type {
  OrderAssigned,
  OrderCancelled,
  OrderCreated,
  OrderDelivered,
  OrderEdited,
  OrderPersonalDataErased,
  OrderUnassigned,
  ProjectCreated,
  RouteCompleted,
  RouteCreated,
  RouteDispatched,
  StopAdded,
  StopRemoved,
  StopsReordered,
  StopWeightChanged,
} from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { orderStreamId, projectStreamId, routeStreamId, streamTypes } from "./streams";

export type ProjectEvent = ProjectCreated;
export type OrderEvent =
  | OrderCreated
  | OrderEdited
  | OrderCancelled
  | OrderAssigned
  | OrderUnassigned
  | OrderDelivered
  | OrderPersonalDataErased;
export type RouteEvent =
  RouteCreated | StopAdded | StopRemoved | StopsReordered | StopWeightChanged | RouteDispatched | RouteCompleted;

/** Every fact Dispatch stores, discriminated by its Protobuf type name. */
export type DispatchEvent = ProjectEvent | OrderEvent | RouteEvent;
export type DispatchEventType = DispatchEvent["$typeName"];

const orderEventTypes = new Set<string>([
  "dispatch.v1.OrderCreated",
  "dispatch.v1.OrderEdited",
  "dispatch.v1.OrderCancelled",
  "dispatch.v1.OrderAssigned",
  "dispatch.v1.OrderUnassigned",
  "dispatch.v1.OrderDelivered",
  "dispatch.v1.OrderPersonalDataErased",
] satisfies OrderEvent["$typeName"][]);

const routeEventTypes = new Set<string>([
  "dispatch.v1.RouteCreated",
  "dispatch.v1.StopAdded",
  "dispatch.v1.StopRemoved",
  "dispatch.v1.StopsReordered",
  "dispatch.v1.StopWeightChanged",
  "dispatch.v1.RouteDispatched",
  "dispatch.v1.RouteCompleted",
] satisfies RouteEvent["$typeName"][]);

export function isDispatchEvent(message: Message): message is DispatchEvent {
  return (
    message.$typeName === "dispatch.v1.ProjectCreated" ||
    orderEventTypes.has(message.$typeName) ||
    routeEventTypes.has(message.$typeName)
  );
}

export function isOrderEvent(event: DispatchEvent): event is OrderEvent {
  return orderEventTypes.has(event.$typeName);
}

/**
 * The stream an event belongs to, read off the event itself: decisions return plain lists of
 * events, and this routes each to its aggregate, so a decision touching three streams stays one list.
 */
export function streamOf(event: DispatchEvent): { streamId: string; streamType: string } {
  if (event.$typeName === "dispatch.v1.ProjectCreated") {
    return { streamId: projectStreamId(event.projectId), streamType: streamTypes.project };
  }
  if (isOrderEvent(event)) return { streamId: orderStreamId(event.orderId), streamType: streamTypes.order };
  return { streamId: routeStreamId(event.routeId), streamType: streamTypes.route };
}
