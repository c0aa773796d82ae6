import { createSelector } from "@reduxjs/toolkit";
import type { OrderViewJson, RouteSheetJson, RouteSummaryJson } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import type { PresentPerson } from "@sluice/design-system";
import type { RootState } from "../../app/store";
import { routeChannel } from "./publication";

const byCreation = (a: OrderViewJson, b: OrderViewJson) =>
  (a.createdAt ?? "").localeCompare(b.createdAt ?? "") || (a.orderId ?? "").localeCompare(b.orderId ?? "");

export const selectOrders = createSelector([(state: RootState) => state.orderBoard.orders], (orders) =>
  Object.values(orders).sort(byCreation),
);

export const selectRoutes = createSelector(
  [(state: RootState) => state.routes.routes, (state: RootState) => state.routes.order],
  (routes, order): RouteSummaryJson[] => order.flatMap((id) => routes[id] ?? []),
);

/** Orders that can go on the given route: open ones, and ones planned on another route (they move). */
export const selectCandidates = createSelector(
  [selectOrders, (_state: RootState, routeId: string) => routeId],
  (orders, routeId) =>
    orders.filter(
      (order) =>
        order.status === "ORDER_STATUS_OPEN" || (order.status === "ORDER_STATUS_PLANNED" && order.routeId !== routeId),
    ),
);

/**
 * The route sheet with each stop's details taken from the live order board: a stop added by a
 * publication carries only its order id and weight, and an edited order changes its stop too.
 */
export const selectRouteSheet = createSelector(
  [(state: RootState) => state.routeSheet.sheet, (state: RootState) => state.orderBoard.orders],
  (sheet, orders): RouteSheetJson | null =>
    sheet && {
      ...sheet,
      stops: (sheet.stops ?? []).map((stop) => {
        const order = orders[stop.orderId ?? ""];
        return order
          ? {
              ...stop,
              consignee: order.consignee,
              address: order.address,
              timeWindow: order.timeWindow,
              personalDataErased: order.personalDataErased,
            }
          : stop;
      }),
    },
);

/** Everyone on the route's channel except the signed-in user. */
export const selectRouteViewers = createSelector(
  [
    (state: RootState, routeId: string) => state.presence[routeChannel(routeId)],
    (state: RootState) => state.session.user?.id,
  ],
  (members, self): PresentPerson[] =>
    Object.values(members ?? {})
      .filter((member) => member.userId !== self)
      .map((member) => ({ id: member.userId ?? "", name: member.displayName || "Someone" }))
      .sort((a, b) => a.name.localeCompare(b.name)),
);

export const selectProject = (state: RootState, projectId: string) =>
  state.projects.items.find((project) => project.projectId === projectId);
