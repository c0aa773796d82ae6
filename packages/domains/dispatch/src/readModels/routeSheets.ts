import type { Queryable } from "@sluice/database";
import { RouteStatus } from "@sluice/contracts/gen/dispatch/v1/types_pb";
import type { RecordedEvent } from "@sluice/event-store";
import { dispatchRecords, type ReadModel } from "./projection";

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
  async handle(tx: Queryable, events: readonly RecordedEvent[]) {
    for (const record of dispatchRecords(events)) {
      const { organizationId: org, data: event, streamVersion: version } = record;
      switch (event.$typeName) {
        case "dispatch.v1.RouteCreated":
          await tx.query(
            `insert into dispatch_routes (organization_id, route_id, project_id, name, vehicle_capacity_kg, status, version, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz) on conflict do nothing`,
            [
              org,
              event.routeId,
              event.projectId,
              event.name,
              event.vehicleCapacityKg,
              RouteStatus.PLANNING,
              version,
              record.occurredAt.toISOString(),
            ],
          );
          continue;
        case "dispatch.v1.StopAdded":
          await tx.query(
            `update dispatch_route_stops set position = position + 1
             where organization_id = $1 and route_id = $2 and position >= $3`,
            [org, event.routeId, event.position],
          );
          await tx.query(
            `insert into dispatch_route_stops (organization_id, route_id, order_id, position, weight_kg)
             values ($1, $2, $3, $4, $5)`,
            [org, event.routeId, event.orderId, event.position, event.weightKg],
          );
          break;
        case "dispatch.v1.StopRemoved": {
          const removed = await tx.query<{ position: number }>(
            `delete from dispatch_route_stops where organization_id = $1 and route_id = $2 and order_id = $3 returning position`,
            [org, event.routeId, event.orderId],
          );
          const position = removed.rows[0]?.position;
          if (position !== undefined) {
            await tx.query(
              `update dispatch_route_stops set position = position - 1
               where organization_id = $1 and route_id = $2 and position > $3`,
              [org, event.routeId, position],
            );
          }
          break;
        }
        case "dispatch.v1.StopsReordered":
          await tx.query(
            `update dispatch_route_stops s set position = t.ordinality - 1
             from jsonb_array_elements_text($3::jsonb) with ordinality as t(order_id, ordinality)
             where s.organization_id = $1 and s.route_id = $2 and s.order_id = t.order_id`,
            [org, event.routeId, JSON.stringify(event.orderIds)],
          );
          break;
        case "dispatch.v1.StopWeightChanged":
          await tx.query(
            `update dispatch_route_stops set weight_kg = $4 where organization_id = $1 and route_id = $2 and order_id = $3`,
            [org, event.routeId, event.orderId, event.weightKg],
          );
          break;
        case "dispatch.v1.RouteDispatched":
          await setRouteStatus(tx, org, event.routeId, RouteStatus.DISPATCHED);
          break;
        case "dispatch.v1.RouteCompleted":
          await setRouteStatus(tx, org, event.routeId, RouteStatus.COMPLETED);
          break;
        default:
          continue;
      }
      // Every route event but its creation lands here: the sheet reflects the route stream's version.
      await tx.query(`update dispatch_routes set version = $3 where organization_id = $1 and route_id = $2`, [
        org,
        event.routeId,
        version,
      ]);
    }
  },
};

function setRouteStatus(tx: Queryable, org: string, routeId: string, status: RouteStatus) {
  return tx.query(`update dispatch_routes set status = $3 where organization_id = $1 and route_id = $2`, [
    org,
    routeId,
    status,
  ]);
}
