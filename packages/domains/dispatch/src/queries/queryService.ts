import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Database } from "@sluice/database";
import type {
  DispatchQueryService,
  OrderViewSchema,
  RouteSummarySchema,
} from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { OrderStatus, type RouteStatus } from "@sluice/contracts/gen/dispatch/v1/types_pb";
import { RpcError, type ServiceImpl } from "@sluice/rpc";
import { timeWindowOf, toDate } from "../readModels/sql";

interface OrderRow {
  order_id: string;
  project_id: string;
  consignee: string;
  address: string;
  weight_kg: number;
  time_window_start: unknown;
  time_window_end: unknown;
  status: number;
  route_id: string | null;
  version: bigint;
  created_at: unknown;
  personal_data_erased: boolean;
}

interface RouteRow {
  route_id: string;
  project_id: string;
  name: string;
  vehicle_capacity_kg: number;
  load_kg: number;
  stop_count: number;
  status: number;
  version: bigint;
}

/** Route summaries with their load and stop count, for the routes `where` selects (of organization $1). */
const routeSummarySql = (where: string) => `
  select r.route_id, r.project_id, r.name, r.vehicle_capacity_kg, r.status, r.version,
         coalesce(sum(s.weight_kg), 0)::double precision as load_kg, count(s.order_id)::int as stop_count
  from dispatch_routes r
  left join dispatch_route_stops s on s.organization_id = r.organization_id and s.route_id = r.route_id
  where r.organization_id = $1 and ${where}
  group by r.organization_id, r.route_id
  order by r.created_at, r.route_id`;

/**
 * Answers from the read models. Every statement filters by the session's organization: a
 * project or route of another organization reads exactly like one that does not exist.
 */
/**
 * `current` resolves once the read models hold every command acknowledged before the query came
 * (read your writes): a query waits for the projection rather than answer from before the asker's
 * own last command, whether it runs in this process (its `caughtUp`) or in another one
 * (`followConsumer`, through the database). Without it, queries answer at once.
 */
export function createQueryService(
  db: Database,
  current: () => Promise<void> = async () => {},
): ServiceImpl<typeof DispatchQueryService> {
  const usersTable = usersTableProbe(db);

  async function assertProjectExists(org: string, projectId: string): Promise<void> {
    const found = await db.query(`select 1 from dispatch_projects where organization_id = $1 and project_id = $2`, [
      org,
      projectId,
    ]);
    if (found.rows.length === 0) throw RpcError.notFound(`project ${projectId}`);
  }

  return {
    async listProjects(_request, { session }) {
      await current();
      const result = await db.query<{
        project_id: string;
        name: string;
        version: bigint;
        open_orders: number;
        routes: number;
      }>(
        `select p.project_id, p.name, p.version,
           (select count(*)::int from dispatch_orders o
             where o.organization_id = p.organization_id and o.project_id = p.project_id and o.status = $2) as open_orders,
           (select count(*)::int from dispatch_routes r
             where r.organization_id = p.organization_id and r.project_id = p.project_id) as routes
         from dispatch_projects p where p.organization_id = $1 order by p.created_at, p.project_id`,
        [session.organizationId, OrderStatus.OPEN],
      );
      return {
        projects: result.rows.map((row) => ({
          projectId: row.project_id,
          name: row.name,
          openOrders: row.open_orders,
          routes: row.routes,
          version: BigInt(row.version),
        })),
      };
    },

    async getOrderBoard({ projectId }, { session }) {
      await current();
      await assertProjectExists(session.organizationId, projectId);
      const result = await db.query<OrderRow>(
        `select * from dispatch_orders where organization_id = $1 and project_id = $2 order by created_at, order_id`,
        [session.organizationId, projectId],
      );
      return { projectId, orders: result.rows.map(orderView) };
    },

    async listRoutes({ projectId }, { session }) {
      await current();
      await assertProjectExists(session.organizationId, projectId);
      const result = await db.query<RouteRow>(routeSummarySql("r.project_id = $2"), [
        session.organizationId,
        projectId,
      ]);
      return { routes: result.rows.map(routeSummary) };
    },

    async getRouteSheet({ routeId }, { session }) {
      await current();
      const org = session.organizationId;
      const route = await db.query<RouteRow>(routeSummarySql("r.route_id = $2"), [org, routeId]);
      const row = route.rows[0];
      if (!row) throw RpcError.notFound(`route ${routeId}`);
      const stops = await db.query<{
        order_id: string;
        weight_kg: number;
        consignee: string | null;
        address: string | null;
        time_window_start: unknown;
        time_window_end: unknown;
        personal_data_erased: boolean | null;
      }>(
        `select s.order_id, s.weight_kg, o.consignee, o.address, o.time_window_start, o.time_window_end,
                o.personal_data_erased
         from dispatch_route_stops s
         left join dispatch_orders o on o.organization_id = s.organization_id and o.order_id = s.order_id
         where s.organization_id = $1 and s.route_id = $2 order by s.position`,
        [org, routeId],
      );
      return {
        route: routeSummary(row),
        stops: stops.rows.map((stop) => ({
          orderId: stop.order_id,
          consignee: stop.consignee ?? "",
          address: stop.address ?? "",
          weightKg: stop.weight_kg,
          timeWindow: timeWindowOf(stop.time_window_start, stop.time_window_end),
          personalDataErased: stop.personal_data_erased === true,
        })),
      };
    },

    async listActivity({ projectId, limit, before }, { session }) {
      await current();
      await assertProjectExists(session.organizationId, projectId);
      const userName = (await usersTable()) ? "u.display_name" : "null";
      const join = (await usersTable())
        ? // By id alone: someone invited from another organization acts here under the account they already had.
          "left join users u on u.id = a.user_id"
        : "";
      const result = await db.query<{
        global_position: bigint;
        project_id: string;
        stream_id: string;
        event_type: string;
        summary: string;
        user_id: string;
        user_name: string;
        occurred_at: unknown;
      }>(
        `select a.global_position, a.project_id, a.stream_id, a.event_type, a.summary, a.user_id, a.occurred_at,
                coalesce(${userName}, a.user_id) as user_name
         from dispatch_activity a ${join}
         where a.organization_id = $1 and a.project_id = $2 and ($3::bigint = 0 or a.global_position < $3::bigint)
         order by a.global_position desc limit $4`,
        [session.organizationId, projectId, String(before), limit === 0 ? 50 : limit],
      );
      return {
        entries: result.rows.map((row) => ({
          globalPosition: BigInt(row.global_position),
          projectId: row.project_id,
          streamId: row.stream_id,
          eventType: row.event_type,
          summary: `${row.user_name} ${row.summary}`,
          userId: row.user_id,
          userName: row.user_name,
          occurredAt: timestampFromDate(toDate(row.occurred_at)),
        })),
      };
    },
  };
}

/**
 * Whether identity's `users` table exists. Identity creates it; until it does, names fall back
 * to user ids. Once seen it stays: tables are not dropped under a running server.
 */
function usersTableProbe(db: Database): () => Promise<boolean> {
  let present = false;
  return async () => {
    if (present) return true;
    const result = await db.query<{ present: boolean }>(`select to_regclass('users') is not null as present`);
    present = result.rows[0]?.present === true;
    return present;
  };
}

function orderView(row: OrderRow): MessageInitShape<typeof OrderViewSchema> {
  return {
    orderId: row.order_id,
    projectId: row.project_id,
    consignee: row.consignee,
    address: row.address,
    weightKg: row.weight_kg,
    timeWindow: timeWindowOf(row.time_window_start, row.time_window_end),
    status: row.status as OrderStatus,
    routeId: row.route_id ?? "",
    version: BigInt(row.version),
    createdAt: timestampFromDate(toDate(row.created_at)),
    personalDataErased: row.personal_data_erased,
  };
}

function routeSummary(row: RouteRow): MessageInitShape<typeof RouteSummarySchema> {
  return {
    routeId: row.route_id,
    projectId: row.project_id,
    name: row.name,
    vehicleCapacityKg: row.vehicle_capacity_kg,
    loadKg: row.load_kg,
    stopCount: row.stop_count,
    status: row.status as RouteStatus,
    version: BigInt(row.version),
  };
}
