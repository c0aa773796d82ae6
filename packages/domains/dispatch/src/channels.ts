import type { RecordedEvent } from "@sluice/event-store";
import { isDispatchEvent } from "./events";

export const orgChannel = "org";
export const projectChannel = (projectId: string): string => `project:${projectId}`;
export const routeChannel = (routeId: string): string => `route:${routeId}`;

/**
 * Which channels an event goes to: everything to its project, new projects to the whole
 * organization, and everything about a route to that route, including edits and cancellations of
 * orders on it (those events name the order's route). Names carry no organization; the sink
 * scopes them.
 */
export function channelsOf(recorded: RecordedEvent): string[] {
  const event = recorded.data;
  if (!isDispatchEvent(event)) return [];
  const channels = [projectChannel(event.projectId)];
  switch (event.$typeName) {
    case "dispatch.v1.ProjectCreated":
      return [orgChannel, ...channels];
    case "dispatch.v1.OrderCreated":
      return channels;
    case "dispatch.v1.OrderEdited":
    case "dispatch.v1.OrderCancelled":
    case "dispatch.v1.OrderPersonalDataErased":
      return event.routeId ? [...channels, routeChannel(event.routeId)] : channels;
    default:
      return [...channels, routeChannel(event.routeId)];
  }
}
