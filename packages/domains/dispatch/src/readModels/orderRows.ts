import { OrderStatus } from "@sluice/contracts/gen/dispatch/v1/types_pb";
import { isOrderEvent } from "../events";
import type { DispatchRecord } from "./projection";
import { ByOrganization, isoText, timeWindowColumns, type OrgRouteKey, type ReadonlyByOrganization } from "./sql";

/** A row of the order board (`dispatch_orders`), as the fold sees it. */
export interface OrderRow {
  readonly organizationId: string;
  readonly orderId: string;
  readonly projectId: string;
  readonly consignee: string;
  readonly address: string;
  readonly weightKg: number;
  /** Timestamps as text (ISO from events, the server's own text when read back), or null: no time window. */
  readonly timeWindowStart: string | null;
  readonly timeWindowEnd: string | null;
  readonly status: OrderStatus;
  readonly routeId: string | null;
  readonly version: bigint;
  /** As text, as the time window. */
  readonly createdAt: string;
  readonly personalDataErased: boolean;
}

/** Rows by organization and order id. */
export type OrderRows = ReadonlyByOrganization<OrderRow>;

/** An order as a row of a `jsonRows` parameter ("organization_id text, order_id text"). */
type OrgOrderKey = readonly [organizationId: string, orderId: string];

/**
 * The orders a batch does more to than create. Their rows are read before the fold; an order the
 * batch only creates is written blind ("on conflict do nothing"), which spares a live batch of
 * creations, the common one, a read.
 */
function ordersChanged(records: readonly DispatchRecord[]): ByOrganization<OrgOrderKey> {
  const orders = new ByOrganization<OrgOrderKey>();
  for (const { organizationId: org, data: event } of records) {
    if (isOrderEvent(event) && event.$typeName !== "dispatch.v1.OrderCreated")
      orders.set(org, event.orderId, [org, event.orderId]);
  }
  return orders;
}

/**
 * The rows a batch may change, to load before folding it: every order it does more to than create,
 * and the planned orders of every route it dispatches (RouteDispatched moves them all, named or not).
 */
export function orderRowsNeeded(records: readonly DispatchRecord[]): {
  orders: OrgOrderKey[];
  dispatchedRoutes: OrgRouteKey[];
} {
  const dispatchedRoutes = new ByOrganization<OrgRouteKey>();
  for (const { organizationId: org, data: event } of records) {
    if (event.$typeName === "dispatch.v1.RouteDispatched")
      dispatchedRoutes.set(org, event.routeId, [org, event.routeId]);
  }
  return { orders: [...ordersChanged(records).values()], dispatchedRoutes: [...dispatchedRoutes.values()] };
}

/** What a batch writes: rows of orders it only creates (inserted unless there), and rows it changed, as they end. */
export interface OrderBoardChanges {
  readonly created: OrderRow[];
  readonly changed: OrderRow[];
}

/**
 * The batch folded into the rows it starts from (those `orderRowsNeeded` names that exist), in
 * log order, as each event would change the table on its own. An event about an order the board
 * does not hold changes nothing; a creation of one it holds neither (for an order the batch only
 * creates, the insert's "on conflict do nothing" sees to that, and the first creation wins).
 */
export function foldOrderRows(before: OrderRows, records: readonly DispatchRecord[]): OrderBoardChanges {
  // Orders created here, until another event of the batch changes them: those were read first
  // (`ordersChanged`), so any row the table has for them is in `rows` and their creation was skipped.
  const created = new ByOrganization<OrderRow>();
  const rows = before.copy();
  const changed = new ByOrganization<OrderRow>();
  // The orders on each route (their ids), so that a dispatch looks only at its own.
  const onRoute = new ByOrganization<Set<string>>();
  const place = (row: OrderRow, add: boolean) => {
    if (row.routeId === null) return;
    let orders = onRoute.get(row.organizationId, row.routeId);
    if (!orders) onRoute.set(row.organizationId, row.routeId, (orders = new Set()));
    if (add) orders.add(row.orderId);
    else orders.delete(row.orderId);
  };
  for (const row of rows.values()) place(row, true);
  const put = (row: OrderRow) => {
    const was = rows.get(row.organizationId, row.orderId);
    if (was?.routeId !== row.routeId) {
      if (was) place(was, false);
      place(row, true);
    }
    created.delete(row.organizationId, row.orderId);
    rows.set(row.organizationId, row.orderId, row);
    changed.set(row.organizationId, row.orderId, row);
  };
  for (const record of records) {
    const { organizationId: org, data: event, streamVersion: version } = record;
    if (event.$typeName === "dispatch.v1.RouteDispatched") {
      // The orders' streams do not change when their route leaves: their versions stay.
      for (const orderId of onRoute.get(org, event.routeId) ?? []) {
        const row = rows.get(org, orderId)!;
        if (row.status === OrderStatus.PLANNED) put({ ...row, status: OrderStatus.DISPATCHED });
      }
      continue;
    }
    if (!isOrderEvent(event)) continue;
    const row = rows.get(org, event.orderId) ?? created.get(org, event.orderId);
    if (event.$typeName === "dispatch.v1.OrderCreated") {
      if (row) continue;
      const [start, end] = timeWindowColumns(event.timeWindow);
      const order: OrderRow = {
        organizationId: org,
        orderId: event.orderId,
        projectId: event.projectId,
        consignee: event.consignee,
        address: event.address,
        weightKg: event.weightKg,
        timeWindowStart: start,
        timeWindowEnd: end,
        status: OrderStatus.OPEN,
        routeId: null,
        version,
        createdAt: isoText(record.occurredAt),
        // Read after the erasure (a rebuild), the event itself says so.
        personalDataErased: event.personalDataErased,
      };
      created.set(org, event.orderId, order);
      continue;
    }
    if (!row) continue;
    switch (event.$typeName) {
      case "dispatch.v1.OrderEdited": {
        const [start, end] = timeWindowColumns(event.timeWindow);
        put({
          ...row,
          consignee: event.consignee,
          address: event.address,
          weightKg: event.weightKg,
          timeWindowStart: start,
          timeWindowEnd: end,
          version,
          personalDataErased: row.personalDataErased || event.personalDataErased,
        });
        break;
      }
      case "dispatch.v1.OrderCancelled":
        put({ ...row, status: OrderStatus.CANCELLED, routeId: null, version });
        break;
      case "dispatch.v1.OrderAssigned":
        put({ ...row, status: OrderStatus.PLANNED, routeId: event.routeId, version });
        break;
      case "dispatch.v1.OrderUnassigned":
        put({ ...row, status: OrderStatus.OPEN, routeId: null, version });
        break;
      case "dispatch.v1.OrderDelivered":
        put({ ...row, status: OrderStatus.DELIVERED, routeId: event.routeId, version });
        break;
      case "dispatch.v1.OrderPersonalDataErased":
        put({ ...row, consignee: "", address: "", personalDataErased: true, version });
        break;
    }
  }
  return { created: [...created.values()], changed: [...changed.values()] };
}
