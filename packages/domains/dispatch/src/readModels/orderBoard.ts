import type { Queryable } from "@sluice/database";
import { OrderStatus } from "@sluice/contracts/gen/dispatch/v1/types_pb";
import type { RecordedEvent } from "@sluice/event-store";
import { foldOrderRows, orderRowsNeeded, type OrderRow } from "./orderRows";
import { dispatchRecords, type ReadModel } from "./projection";
import { ByOrganization, jsonRows } from "./sql";

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
   * Three statements per batch at most, whatever its size: the rows it may change are read, the
   * batch is folded into them in memory (`foldOrderRows`), the orders it only creates are inserted
   * and the rows that changed written back in one upsert. Batches must apply one at a time, as a
   * projection's checkpoint makes them (not inline, beside concurrent appends: rows read here
   * could change before they are written back).
   */
  async handle(tx: Queryable, events: readonly RecordedEvent[]) {
    const records = dispatchRecords(events);
    const { created, changed } = foldOrderRows(await loadOrders(tx, orderRowsNeeded(records)), records);
    const columns = `organization_id, order_id, project_id, consignee, address, weight_kg, time_window_start,
      time_window_end, status, route_id, version, created_at, personal_data_erased`;
    const rows = jsonRows(
      "$1",
      "r",
      `organization_id text, order_id text, project_id text, consignee text, address text,
      weight_kg double precision, time_window_start timestamptz, time_window_end timestamptz, status smallint,
      route_id text, version bigint, created_at timestamptz, personal_data_erased boolean`,
    );
    if (created.length > 0) {
      await tx.query(
        `insert into dispatch_orders (${columns}) select * from ${rows} on conflict do nothing`,
        [JSON.stringify(created.map(orderValues))],
        { name: "dispatch.order-board.insert" },
      );
    }
    if (changed.length > 0) {
      await tx.query(
        `insert into dispatch_orders (${columns}) select * from ${rows}
         on conflict (organization_id, order_id) do update set consignee = excluded.consignee,
           address = excluded.address, weight_kg = excluded.weight_kg, time_window_start = excluded.time_window_start,
           time_window_end = excluded.time_window_end, status = excluded.status, route_id = excluded.route_id,
           version = excluded.version, personal_data_erased = excluded.personal_data_erased`,
        [JSON.stringify(changed.map(orderValues))],
        { name: "dispatch.order-board.upsert" },
      );
    }
  },
};

interface OrderTableRow {
  organization_id: string;
  order_id: string;
  project_id: string;
  consignee: string;
  address: string;
  weight_kg: number;
  time_window_start: string | null;
  time_window_end: string | null;
  status: number;
  route_id: string | null;
  version: bigint;
  created_at: string;
  personal_data_erased: boolean;
}

/** The named orders, and the planned orders of the routes dispatched, in one statement (none when there are none). */
async function loadOrders(
  tx: Queryable,
  needed: ReturnType<typeof orderRowsNeeded>,
): Promise<ByOrganization<OrderRow>> {
  // Timestamps as text: written back as they are, without a Date in between.
  const columns = `o.organization_id, o.order_id, o.project_id, o.consignee, o.address, o.weight_kg,
    o.time_window_start::text, o.time_window_end::text, o.status, o.route_id, o.version, o.created_at::text,
    o.personal_data_erased`;
  const parts: string[] = [];
  const params: unknown[] = [];
  if (needed.orders.length > 0) {
    params.push(JSON.stringify(needed.orders));
    parts.push(`select ${columns} from dispatch_orders o
      join ${jsonRows(`$${params.length}`, "k", "organization_id text, order_id text")}
        on o.organization_id = k.organization_id and o.order_id = k.order_id`);
  }
  if (needed.dispatchedRoutes.length > 0) {
    params.push(JSON.stringify(needed.dispatchedRoutes), OrderStatus.PLANNED);
    parts.push(`select ${columns} from dispatch_orders o
      join ${jsonRows(`$${params.length - 1}`, "r", "organization_id text, route_id text")}
        on o.organization_id = r.organization_id and o.route_id = r.route_id
      where o.status = $${params.length}`);
  }
  const loaded = new ByOrganization<OrderRow>();
  if (parts.length === 0) return loaded;
  const { rows } = await tx.query<OrderTableRow>(parts.join(" union all "), params);
  for (const row of rows) {
    loaded.set(row.organization_id, row.order_id, {
      organizationId: row.organization_id,
      orderId: row.order_id,
      projectId: row.project_id,
      consignee: row.consignee,
      address: row.address,
      weightKg: row.weight_kg,
      timeWindowStart: row.time_window_start,
      timeWindowEnd: row.time_window_end,
      status: row.status,
      routeId: row.route_id,
      version: row.version,
      createdAt: row.created_at,
      personalDataErased: row.personal_data_erased,
    });
  }
  return loaded;
}

/** A row as a `jsonRows` element, in the columns' order. */
const orderValues = (row: OrderRow) => [
  row.organizationId,
  row.orderId,
  row.projectId,
  row.consignee,
  row.address,
  // As text, so that NaN or Infinity would still reach float8 as they did as a parameter.
  String(row.weightKg),
  row.timeWindowStart,
  row.timeWindowEnd,
  row.status,
  row.routeId,
  row.version.toString(),
  row.createdAt,
  row.personalDataErased,
];
