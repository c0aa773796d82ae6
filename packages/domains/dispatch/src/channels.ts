import type { EventStore, RecordedEvent } from "@sluice/event-store";
import { orderAggregate } from "./aggregates";
import { isDispatchEvent } from "./events";

export const orgChannel = "org";
export const projectChannel = (projectId: string): string => `project:${projectId}`;
export const routeChannel = (routeId: string): string => `route:${routeId}`;

export type ChannelsOf = (event: RecordedEvent) => Promise<string[]>;

/**
 * Which channels an event goes to: everything to its project, new projects to the whole
 * organization, and everything about a route to that route, including edits and cancellations of
 * orders on it. Those carry no route id, so the order's route is read from its own stream as it
 * stood just before the event: exact whatever the read models' lag. Names carry no organization;
 * the sink scopes them.
 */
export function createChannelsOf(store: EventStore): ChannelsOf {
  return async (recorded) => {
    const event = recorded.data;
    if (!isDispatchEvent(event)) return [];
    const channels = [projectChannel(event.projectId)];
    switch (event.$typeName) {
      case "dispatch.v1.ProjectCreated":
        return [orgChannel, ...channels];
      case "dispatch.v1.OrderCreated":
        return channels;
      case "dispatch.v1.OrderEdited":
      case "dispatch.v1.OrderCancelled": {
        const routeId = await routeOfOrderBefore(store, recorded);
        return routeId === undefined ? channels : [...channels, routeChannel(routeId)];
      }
      default:
        return [...channels, routeChannel(event.routeId)];
    }
  };
}

async function routeOfOrderBefore(store: EventStore, recorded: RecordedEvent): Promise<string | undefined> {
  const stream = await store.readStream(recorded.organizationId, recorded.streamId);
  const before = stream.events
    .filter((event) => event.streamVersion < recorded.streamVersion)
    .map((event) => event.data);
  const order = before.reduce(orderAggregate.evolve, orderAggregate.initialState());
  return order.status === "none" ? undefined : order.routeId;
}
