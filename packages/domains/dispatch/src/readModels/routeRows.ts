import { RouteStatus } from "@sluice/contracts/gen/dispatch/v1/types_pb";
import { isOrderEvent } from "../events";
import type { DispatchRecord } from "./projection";
import { ByOrganization, isoText, type OrgRouteKey, type ReadonlyByOrganization } from "./sql";

/** A row of `dispatch_routes`, as the fold sees it. */
export interface RouteRow {
  readonly organizationId: string;
  readonly routeId: string;
  readonly projectId: string;
  readonly name: string;
  readonly vehicleCapacityKg: number;
  readonly status: RouteStatus;
  readonly version: bigint;
  /** As text: ISO from the event, or the server's own text when read back. */
  readonly createdAt: string;
}

/** A row of `dispatch_route_stops`. */
export interface StopRow {
  readonly organizationId: string;
  readonly routeId: string;
  readonly orderId: string;
  readonly position: number;
  readonly weightKg: number;
}

/** Route sheets as a fold sees them: routes by organization and route id, and each such route's stops. */
export interface RouteSheetRows {
  readonly routes: ReadonlyByOrganization<RouteRow>;
  readonly stops: ReadonlyByOrganization<readonly StopRow[]>;
}

/** What a batch changes: the routes and stops to write as they end, and the stops gone. */
export interface RouteSheetChanges {
  readonly routes: RouteRow[];
  readonly stops: StopRow[];
  readonly removedStops: StopRow[];
}

/** The route events that change stops. */
const stopEventTypes = new Set<string>([
  "dispatch.v1.StopAdded",
  "dispatch.v1.StopRemoved",
  "dispatch.v1.StopsReordered",
  "dispatch.v1.StopWeightChanged",
]);

/**
 * The rows a batch may change, to load before folding it: every route its route events name, and
 * all the stops of the routes whose stops they change (adding or removing one moves the others).
 */
export function routeSheetRowsNeeded(records: readonly DispatchRecord[]): {
  routes: OrgRouteKey[];
  stopsOf: OrgRouteKey[];
} {
  const routes = new ByOrganization<OrgRouteKey>();
  const stopsOf = new ByOrganization<OrgRouteKey>();
  for (const { organizationId: org, data: event } of records) {
    if (isOrderEvent(event) || event.$typeName === "dispatch.v1.ProjectCreated") continue;
    const route: OrgRouteKey = [org, event.routeId];
    routes.set(org, event.routeId, route);
    if (stopEventTypes.has(event.$typeName)) stopsOf.set(org, event.routeId, route);
  }
  return { routes: [...routes.values()], stopsOf: [...stopsOf.values()] };
}

/**
 * The batch folded into the rows it starts from (those `routeSheetRowsNeeded` names that exist),
 * in log order, as each event would change the tables on its own. Stops keep their positions
 * 0..n-1: an added stop moves those at and after its place down one, a removed one those after it
 * up one. An event about a route the sheets do not hold changes no route row (its stops still
 * change); a creation of one they hold changes nothing. A stop added twice is refused, as the
 * table's primary key would.
 */
export function foldRouteSheetRows(before: RouteSheetRows, records: readonly DispatchRecord[]): RouteSheetChanges {
  const routes = before.routes.copy();
  const changedRoutes = new ByOrganization<RouteRow>();
  const putRoute = (row: RouteRow) => {
    routes.set(row.organizationId, row.routeId, row);
    changedRoutes.set(row.organizationId, row.routeId, row);
  };
  // Each touched route's stops by order id, as they were and as they are (copied on first change).
  const stops = new ByOrganization<{ was: Map<string, StopRow>; now: Map<string, StopRow> }>();
  const stopsOf = (org: string, routeId: string) => {
    let route = stops.get(org, routeId);
    if (!route) {
      const was = new Map((before.stops.get(org, routeId) ?? []).map((stop) => [stop.orderId, stop]));
      stops.set(org, routeId, (route = { was, now: new Map(was) }));
    }
    return route.now;
  };
  const shift = (route: Map<string, StopRow>, from: number, by: number) => {
    for (const [orderId, stop] of route)
      if (stop.position >= from) route.set(orderId, { ...stop, position: stop.position + by });
  };

  for (const record of records) {
    const { organizationId: org, data: event, streamVersion: version } = record;
    switch (event.$typeName) {
      case "dispatch.v1.RouteCreated": {
        if (!routes.has(org, event.routeId)) {
          putRoute({
            organizationId: org,
            routeId: event.routeId,
            projectId: event.projectId,
            name: event.name,
            vehicleCapacityKg: event.vehicleCapacityKg,
            status: RouteStatus.PLANNING,
            version,
            createdAt: isoText(record.occurredAt),
          });
        }
        continue;
      }
      case "dispatch.v1.StopAdded": {
        const route = stopsOf(org, event.routeId);
        if (route.has(event.orderId))
          throw new Error(`order ${event.orderId} is a stop of route ${event.routeId} already`);
        shift(route, event.position, 1);
        route.set(event.orderId, {
          organizationId: org,
          routeId: event.routeId,
          orderId: event.orderId,
          position: event.position,
          weightKg: event.weightKg,
        });
        break;
      }
      case "dispatch.v1.StopRemoved": {
        const route = stopsOf(org, event.routeId);
        const removed = route.get(event.orderId);
        if (removed) {
          route.delete(event.orderId);
          shift(route, removed.position + 1, -1);
        }
        break;
      }
      case "dispatch.v1.StopsReordered": {
        const route = stopsOf(org, event.routeId);
        event.orderIds.forEach((orderId, position) => {
          const stop = route.get(orderId);
          if (stop) route.set(orderId, { ...stop, position });
        });
        break;
      }
      case "dispatch.v1.StopWeightChanged": {
        const route = stopsOf(org, event.routeId);
        const stop = route.get(event.orderId);
        if (stop) route.set(event.orderId, { ...stop, weightKg: event.weightKg });
        break;
      }
      case "dispatch.v1.RouteDispatched":
      case "dispatch.v1.RouteCompleted":
        break;
      default:
        continue;
    }
    // Every route event but its creation lands here: the sheet reflects the route stream's version.
    const route = routes.get(org, event.routeId);
    if (!route) continue;
    const status =
      event.$typeName === "dispatch.v1.RouteDispatched"
        ? RouteStatus.DISPATCHED
        : event.$typeName === "dispatch.v1.RouteCompleted"
          ? RouteStatus.COMPLETED
          : route.status;
    putRoute({ ...route, status, version });
  }

  const changedStops: StopRow[] = [];
  const removedStops: StopRow[] = [];
  for (const { was, now: route } of stops.values()) {
    for (const stop of route.values()) {
      const old = was.get(stop.orderId);
      if (!old || old.position !== stop.position || !Object.is(old.weightKg, stop.weightKg)) changedStops.push(stop);
    }
    for (const old of was.values()) if (!route.has(old.orderId)) removedStops.push(old);
  }
  return { routes: [...changedRoutes.values()], stops: changedStops, removedStops };
}
