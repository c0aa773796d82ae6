/** Stream ids are the aggregate kind and its UUID; requests and events carry the bare UUID. */
export const streamTypes = {
  project: "dispatch.project",
  order: "dispatch.order",
  route: "dispatch.route",
} as const;

export const projectStreamId = (projectId: string): string => `project-${projectId}`;
export const orderStreamId = (orderId: string): string => `order-${orderId}`;
export const routeStreamId = (routeId: string): string => `route-${routeId}`;
