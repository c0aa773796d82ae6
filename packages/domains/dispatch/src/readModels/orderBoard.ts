import type { Queryable } from "@sluice/database";
import { OrderStatus } from "@sluice/contracts/gen/dispatch/v1/types_pb";
import type { RecordedEvent } from "@sluice/event-store";
import { dispatchRecords, type ReadModel } from "./projection";
import { timeWindowColumns } from "./sql";

/** Orders per project with their status and route: what the order board shows. */
export const orderBoard: ReadModel = {
  name: "dispatch.order-board",
  migrations: [
    {
      id: "dispatch/001-order-board",
      sql: `
        create table dispatch_orders (
          organization_id text not null,
          order_id text not null,
          project_id text not null,
          consignee text not null,
          address text not null,
          weight_kg double precision not null,
          time_window_start timestamptz,
          time_window_end timestamptz,
          status smallint not null,
          route_id text,
          version bigint not null,
          created_at timestamptz not null,
          primary key (organization_id, order_id)
        );
        create index dispatch_orders_by_project on dispatch_orders (organization_id, project_id, created_at);
        create index dispatch_orders_by_route on dispatch_orders (organization_id, route_id);
      `,
    },
    {
      id: "dispatch/005-order-board-personal-data-erased",
      sql: `alter table dispatch_orders add column personal_data_erased boolean not null default false;`,
    },
  ],
  /**
   * Events apply in log order; only a run of consecutive OrderCreated (new rows, independent of
   * each other) goes in as one insert, written before the next other event applies.
   */
  async handle(tx: Queryable, events: readonly RecordedEvent[]) {
    let created: Record<string, unknown>[] = [];
    const flush = async () => {
      if (created.length === 0) return;
      const rows = created;
      created = [];
      await tx.query(
        `insert into dispatch_orders (organization_id, order_id, project_id, consignee, address, weight_kg,
           time_window_start, time_window_end, status, route_id, version, created_at, personal_data_erased)
         select organization_id, order_id, project_id, consignee, address, weight_kg,
           time_window_start, time_window_end, status, null, version, created_at, personal_data_erased
         from jsonb_to_recordset($1::jsonb) as r(organization_id text, order_id text, project_id text, consignee text,
           address text, weight_kg double precision, time_window_start timestamptz, time_window_end timestamptz,
           status smallint, version bigint, created_at timestamptz, personal_data_erased boolean)
         on conflict do nothing`,
        [JSON.stringify(rows)],
      );
    };
    for (const record of dispatchRecords(events)) {
      const { organizationId: org, data: event, streamVersion: version } = record;
      if (event.$typeName === "dispatch.v1.OrderCreated") {
        const [start, end] = timeWindowColumns(event.timeWindow);
        created.push({
          organization_id: org,
          order_id: event.orderId,
          project_id: event.projectId,
          consignee: event.consignee,
          address: event.address,
          // As text, so that NaN or Infinity would still reach float8 as they did as a parameter.
          weight_kg: String(event.weightKg),
          time_window_start: start,
          time_window_end: end,
          status: OrderStatus.OPEN,
          version: version.toString(),
          created_at: record.occurredAt.toISOString(),
          // Read after the erasure (a rebuild), the event itself says so.
          personal_data_erased: event.personalDataErased,
        });
        continue;
      }
      await flush();
      switch (event.$typeName) {
        case "dispatch.v1.OrderEdited": {
          const [start, end] = timeWindowColumns(event.timeWindow);
          await tx.query(
            `update dispatch_orders set consignee = $3, address = $4, weight_kg = $5,
               time_window_start = $6::timestamptz, time_window_end = $7::timestamptz, version = $8,
               personal_data_erased = personal_data_erased or $9
             where organization_id = $1 and order_id = $2`,
            [
              org,
              event.orderId,
              event.consignee,
              event.address,
              event.weightKg,
              start,
              end,
              version,
              event.personalDataErased,
            ],
          );
          break;
        }
        case "dispatch.v1.OrderCancelled":
          await setStatus(tx, org, event.orderId, OrderStatus.CANCELLED, null, version);
          break;
        case "dispatch.v1.OrderAssigned":
          await setStatus(tx, org, event.orderId, OrderStatus.PLANNED, event.routeId, version);
          break;
        case "dispatch.v1.OrderUnassigned":
          await setStatus(tx, org, event.orderId, OrderStatus.OPEN, null, version);
          break;
        case "dispatch.v1.OrderDelivered":
          await setStatus(tx, org, event.orderId, OrderStatus.DELIVERED, event.routeId, version);
          break;
        case "dispatch.v1.OrderPersonalDataErased":
          await tx.query(
            `update dispatch_orders set consignee = '', address = '', personal_data_erased = true, version = $3
             where organization_id = $1 and order_id = $2`,
            [org, event.orderId, version],
          );
          break;
        case "dispatch.v1.RouteDispatched":
          // The orders' streams do not change when their route leaves: their versions stay.
          await tx.query(
            `update dispatch_orders set status = $3 where organization_id = $1 and route_id = $2 and status = $4`,
            [org, event.routeId, OrderStatus.DISPATCHED, OrderStatus.PLANNED],
          );
          break;
      }
    }
    await flush();
  },
};

function setStatus(
  tx: Queryable,
  org: string,
  orderId: string,
  status: OrderStatus,
  routeId: string | null,
  version: bigint,
) {
  return tx.query(
    `update dispatch_orders set status = $3, route_id = $4, version = $5 where organization_id = $1 and order_id = $2`,
    [org, orderId, status, routeId, version],
  );
}
