import type { Queryable } from "@sluice/database";
import type { RecordedEvent } from "@sluice/event-store";
import type { DispatchEvent } from "../events";
import { formatKg } from "../rules";
import { dispatchRecords, type ReadModel } from "./projection";

/**
 * One sentence per thing a dispatcher did, stored without its subject ("created order for ACME
 * (120 kg)"): the query puts the user's current name in front, so a renamed user reads right.
 * Names of orders and routes are kept in a small table of this read model's own, so it never
 * depends on how far another projection has got.
 */
export const activityFeed: ReadModel = {
  name: "dispatch.activity",
  migrations: [
    {
      id: "dispatch/004-activity",
      sql: `
        create table dispatch_activity (
          organization_id text not null,
          global_position bigint not null,
          project_id text not null,
          stream_id text not null,
          event_type text not null,
          summary text not null,
          user_id text not null,
          occurred_at timestamptz not null,
          primary key (organization_id, global_position)
        );
        create index dispatch_activity_by_project on dispatch_activity (organization_id, project_id, global_position desc);
        create table dispatch_activity_labels (
          organization_id text not null,
          id text not null,
          label text not null,
          primary key (organization_id, id)
        );
      `,
    },
  ],
  async handle(tx: Queryable, events: readonly RecordedEvent[]) {
    for (const record of dispatchRecords(events)) {
      const org = record.organizationId;
      const event = record.data;
      const label = labelOf(event);
      if (label) {
        await tx.query(
          `insert into dispatch_activity_labels (organization_id, id, label) values ($1, $2, $3)
           on conflict (organization_id, id) do update set label = excluded.label`,
          [org, label.id, label.text],
        );
      }
      const summary = await summarize(event, (id) => lookUpLabel(tx, org, id));
      if (summary === undefined) continue;
      await tx.query(
        `insert into dispatch_activity (organization_id, global_position, project_id, stream_id, event_type, summary, user_id, occurred_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz) on conflict do nothing`,
        [
          org,
          record.globalPosition,
          event.projectId,
          record.streamId,
          record.type,
          summary,
          record.metadata.userId,
          record.occurredAt.toISOString(),
        ],
      );
    }
  },
};

function labelOf(event: DispatchEvent): { id: string; text: string } | undefined {
  switch (event.$typeName) {
    case "dispatch.v1.OrderCreated":
    case "dispatch.v1.OrderEdited":
      return { id: event.orderId, text: `order for ${event.consignee}` };
    case "dispatch.v1.RouteCreated":
      return { id: event.routeId, text: `route ${event.name}` };
    default:
      return undefined;
  }
}

async function lookUpLabel(tx: Queryable, org: string, id: string): Promise<string> {
  const found = await tx.query<{ label: string }>(
    `select label from dispatch_activity_labels where organization_id = $1 and id = $2`,
    [org, id],
  );
  return found.rows[0]?.label ?? id;
}

/**
 * The sentence for an event, or undefined for the route-side twin of an order event (a stop added
 * with an assignment, removed with a cancellation): the feed tells what people did, once.
 */
export async function summarize(
  event: DispatchEvent,
  label: (id: string) => Promise<string>,
): Promise<string | undefined> {
  switch (event.$typeName) {
    case "dispatch.v1.ProjectCreated":
      return `created project ${event.name}`;
    case "dispatch.v1.OrderCreated":
      return `created order for ${event.consignee} (${formatKg(event.weightKg)})`;
    case "dispatch.v1.OrderEdited":
      return `edited order for ${event.consignee} (${formatKg(event.weightKg)})`;
    case "dispatch.v1.OrderCancelled":
      return `cancelled ${await label(event.orderId)}${event.reason ? `: ${event.reason}` : ""}`;
    case "dispatch.v1.OrderAssigned":
      return `put ${await label(event.orderId)} on ${await label(event.routeId)}`;
    case "dispatch.v1.OrderUnassigned":
      return `took ${await label(event.orderId)} off ${await label(event.routeId)}`;
    case "dispatch.v1.OrderDelivered":
      return `delivered ${await label(event.orderId)} with ${await label(event.routeId)}`;
    case "dispatch.v1.RouteCreated":
      return `created route ${event.name} (${formatKg(event.vehicleCapacityKg)} capacity)`;
    case "dispatch.v1.StopsReordered":
      return `reordered the stops of ${await label(event.routeId)}`;
    case "dispatch.v1.RouteDispatched":
      return `dispatched ${await label(event.routeId)}`;
    case "dispatch.v1.RouteCompleted":
      return `completed ${await label(event.routeId)}`;
    case "dispatch.v1.StopAdded":
    case "dispatch.v1.StopRemoved":
    case "dispatch.v1.StopWeightChanged":
      return undefined;
  }
}
