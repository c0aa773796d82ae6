import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  AssignOrderRequestSchema,
  CreateOrderRequestSchema,
  CreateProjectRequestSchema,
  CreateRouteRequestSchema,
} from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { Role } from "@sluice/contracts";
import type { EventStore } from "@sluice/event-store";
import type { CallContext } from "@sluice/rpc";
import { createCommandService } from "./commands/commandService";

export interface DemoDispatch {
  readonly projectId: string;
  readonly orderIds: readonly string[];
  readonly routeIds: readonly string[];
}

const hour = 3_600_000;

const demoOrders = [
  { consignee: "ACME Logistics", address: "Waalhaven Oostzijde 1, Rotterdam", weightKg: 120 },
  { consignee: "Van Dijk Bakkerij", address: "Nieuwe Binnenweg 200, Rotterdam", weightKg: 80 },
  { consignee: "Havenkantoor", address: "Wilhelminakade 909, Rotterdam", weightKg: 450 },
  { consignee: "De Groene Kas", address: "Westlandseweg 12, Delft", weightKg: 300 },
  { consignee: "Maas Metaal", address: "Vlaardingweg 62, Schiedam", weightKg: 950 },
  { consignee: "Kaasboer Gouda", address: "Markt 35, Gouda", weightKg: 60 },
];

/**
 * The demo organization's "Rotterdam depot": orders and two routes, the first with a few stops,
 * made through the same command handlers as any dispatcher's. Every command has a fixed command
 * id, so running it again (every start) appends nothing and returns the same ids.
 */
export async function seedDemoDispatch(options: {
  store: EventStore;
  organizationId: string;
  userId: string;
  displayName?: string;
}): Promise<DemoDispatch> {
  const commands = createCommandService(options.store);
  const context = (step: string): CallContext => ({
    session: {
      sessionId: "demo-seed",
      userId: options.userId,
      displayName: options.displayName ?? "Demo",
      organizationId: options.organizationId,
      role: Role.OWNER,
      expiresAt: Number.MAX_SAFE_INTEGER,
    },
    commandId: `dispatch-demo-seed/${step}`,
    correlationId: "dispatch-demo-seed",
    traceparent: undefined,
    signal: new AbortController().signal,
  });

  const { projectId } = await commands.createProject(
    create(CreateProjectRequestSchema, { name: "Rotterdam depot" }),
    context("project"),
  );
  if (!projectId) throw new Error("the demo project was not created");
  const tomorrow = Math.ceil(Date.now() / (24 * hour)) * 24 * hour;
  const orderIds: string[] = [];
  for (const [index, order] of demoOrders.entries()) {
    const start = tomorrow + (8 + index) * hour;
    const created = await commands.createOrder(
      create(CreateOrderRequestSchema, {
        projectId,
        ...order,
        timeWindow: { start: timestampFromMs(start), end: timestampFromMs(start + 2 * hour) },
      }),
      context(`order-${index}`),
    );
    if (!created.orderId) throw new Error("a demo order was not created");
    orderIds.push(created.orderId);
  }
  const routeIds: string[] = [];
  for (const [index, route] of [
    { name: "North", vehicleCapacityKg: 1000 },
    { name: "South", vehicleCapacityKg: 1500 },
  ].entries()) {
    const created = await commands.createRoute(
      create(CreateRouteRequestSchema, { projectId, ...route }),
      context(`route-${index}`),
    );
    if (!created.routeId) throw new Error("a demo route was not created");
    routeIds.push(created.routeId);
  }
  const [north] = routeIds;
  for (const [index, orderId] of orderIds.slice(0, 3).entries()) {
    await commands.assignOrder(
      create(AssignOrderRequestSchema, { routeId: north, orderId, position: index }),
      context(`assign-${index}`),
    );
  }
  return { projectId, orderIds, routeIds };
}
