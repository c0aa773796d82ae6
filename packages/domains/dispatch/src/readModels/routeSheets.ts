import type { Queryable } from "@sluice/database";
import type { RecordedEvent } from "@sluice/event-store";
import { dispatchRecords, type ReadModel } from "./projection";
import {
  foldRouteSheetRows,
  routeSheetRowsNeeded,
  type RouteRow,
  type RouteSheetRows,
  type StopRow,
} from "./routeRows";
import { ByOrganization, jsonRows } from "./sql";

/**
 * Routes with their ordered stops and load. Stops keep their weight here (from StopAdded and
 * StopWeightChanged), so a route's load is its own fact, not a join on the order board. Stops
 * hold no personal data: a sheet's consignees and addresses are the order board's, so an order's
 * erasure (OrderPersonalDataErased, an order event) reaches the sheet through it.
 */
export const routeSheets: ReadModel = {
  name: "dispatch.route-sheets",
  migrations: [
    {
      id: "dispatch/002-route-sheets",
      sql: `
        create table dispatch_routes (
          organization_id text not null,
          route_id text not null,
          project_id text not null,
          name text not null,
          vehicle_capacity_kg double precision not null,
          status smallint not null,
          version bigint not null,
          created_at timestamptz not null,
          primary key (organization_id, route_id)
        );
        create index dispatch_routes_by_project on dispatch_routes (organization_id, project_id, created_at);
        create table dispatch_route_stops (
          organization_id text not null,
          route_id text not null,
          order_id text not null,
          position integer not null,
          weight_kg double precision not null,
          primary key (organization_id, route_id, order_id)
        );
      `,
    },
  ],
  /**
   * At most five statements per batch whatever its size: the routes and stops it may change are
   * read, the batch is folded into them in memory (`foldRouteSheetRows`), and what changed is
   * written back: one upsert of routes, one delete and one upsert of stops. Batches must apply one
   * at a time, as a projection's checkpoint makes them.
   */
  async handle(tx: Queryable, events: readonly RecordedEvent[]) {
    const records = dispatchRecords(events);
    const needed = routeSheetRowsNeeded(records);
    if (needed.routes.length === 0) return;
    const changes = foldRouteSheetRows(await loadRouteSheets(tx, needed), records);
    if (changes.routes.length > 0) {
      await tx.query(
        `insert into dispatch_routes (organization_id, route_id, project_id, name, vehicle_capacity_kg, status, version,
           created_at)
         select * from ${jsonRows(
           "$1",
           "r",
           `organization_id text, route_id text, project_id text, name text, vehicle_capacity_kg double precision,
           status smallint, version bigint, created_at timestamptz`,
         )}
         on conflict (organization_id, route_id) do update set status = excluded.status, version = excluded.version`,
        [JSON.stringify(changes.routes.map(routeValues))],
        { name: "dispatch.route-sheets.upsert-routes" },
      );
    }
    if (changes.removedStops.length > 0) {
      await tx.query(
        `delete from dispatch_route_stops s
         using ${jsonRows("$1", "r", "organization_id text, route_id text, order_id text")}
         where s.organization_id = r.organization_id and s.route_id = r.route_id and s.order_id = r.order_id`,
        [JSON.stringify(changes.removedStops.map(stopValues))],
        { name: "dispatch.route-sheets.delete-stops" },
      );
    }
    if (changes.stops.length > 0) {
      await tx.query(
        `insert into dispatch_route_stops (organization_id, route_id, order_id, position, weight_kg)
         select * from ${jsonRows(
           "$1",
           "r",
           "organization_id text, route_id text, order_id text, position integer, weight_kg double precision",
         )}
         on conflict (organization_id, route_id, order_id) do update
           set position = excluded.position, weight_kg = excluded.weight_kg`,
        [JSON.stringify(changes.stops.map(stopValues))],
        { name: "dispatch.route-sheets.upsert-stops" },
      );
    }
  },
};

/** The named routes, and every stop of the routes whose stops change. */
async function loadRouteSheets(
  tx: Queryable,
  needed: ReturnType<typeof routeSheetRowsNeeded>,
): Promise<RouteSheetRows> {
  const routes = new ByOrganization<RouteRow>();
  const { rows: routeRows } = await tx.query<{
    organization_id: string;
    route_id: string;
    project_id: string;
    name: string;
    vehicle_capacity_kg: number;
    status: number;
    version: bigint;
    created_at: string;
  }>(
    `select d.organization_id, d.route_id, d.project_id, d.name, d.vehicle_capacity_kg, d.status, d.version,
       d.created_at::text
     from dispatch_routes d join ${jsonRows("$1", "k", "organization_id text, route_id text")}
       on d.organization_id = k.organization_id and d.route_id = k.route_id`,
    [JSON.stringify(needed.routes)],
    { name: "dispatch.route-sheets.read-routes" },
  );
  for (const row of routeRows) {
    routes.set(row.organization_id, row.route_id, {
      organizationId: row.organization_id,
      routeId: row.route_id,
      projectId: row.project_id,
      name: row.name,
      vehicleCapacityKg: row.vehicle_capacity_kg,
      status: row.status,
      version: row.version,
      createdAt: row.created_at,
    });
  }
  const stops = new ByOrganization<StopRow[]>();
  if (needed.stopsOf.length > 0) {
    const { rows: stopRows } = await tx.query<{
      organization_id: string;
      route_id: string;
      order_id: string;
      position: number;
      weight_kg: number;
    }>(
      `select s.organization_id, s.route_id, s.order_id, s.position, s.weight_kg
       from dispatch_route_stops s join ${jsonRows("$1", "k", "organization_id text, route_id text")}
         on s.organization_id = k.organization_id and s.route_id = k.route_id`,
      [JSON.stringify(needed.stopsOf)],
      { name: "dispatch.route-sheets.read-stops" },
    );
    for (const row of stopRows) {
      let route = stops.get(row.organization_id, row.route_id);
      if (!route) stops.set(row.organization_id, row.route_id, (route = []));
      route.push({
        organizationId: row.organization_id,
        routeId: row.route_id,
        orderId: row.order_id,
        position: row.position,
        weightKg: row.weight_kg,
      });
    }
  }
  return { routes, stops };
}

/** Rows as `jsonRows` elements, in the columns' order; doubles as text, so that NaN or Infinity would reach float8 too. */
const routeValues = (row: RouteRow) => [
  row.organizationId,
  row.routeId,
  row.projectId,
  row.name,
  String(row.vehicleCapacityKg),
  row.status,
  row.version.toString(),
  row.createdAt,
];

/** A stop's key first: a delete reads only the first three. */
const stopValues = (row: StopRow) => [row.organizationId, row.routeId, row.orderId, row.position, String(row.weightKg)];
