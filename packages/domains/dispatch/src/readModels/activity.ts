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
  /**
   * Three statements per batch whatever its size: the labels the batch needs from earlier batches,
   * the labels it sets, its sentences. Each sentence still reads the labels as they stood at its
   * event: those set earlier in the batch from memory, the others from the table.
   */
  async handle(tx: Queryable, events: readonly RecordedEvent[]) {
    const records = dispatchRecords(events);
    if (records.length === 0) return;
    const key = (org: string, id: string) => `${org}\u0000${id}`;
    // Pass 1: which labels are read before the batch sets them, so they come from the table.
    const stored = new Map<string, { organization_id: string; id: string }>();
    const setSoFar = new Set<string>();
    for (const { organizationId: org, data: event } of records) {
      const label = labelOf(event);
      if (label) setSoFar.add(key(org, label.id));
      await summarize(event, async (id) => {
        if (!setSoFar.has(key(org, id))) stored.set(key(org, id), { organization_id: org, id });
        return id;
      });
    }
    const labels = new Map<string, string>();
    if (stored.size > 0) {
      const found = await tx.query<{ organization_id: string; id: string; label: string }>(
        `select l.organization_id, l.id, l.label from dispatch_activity_labels l
         join jsonb_to_recordset($1::jsonb) as k(organization_id text, id text)
           on l.organization_id = k.organization_id and l.id = k.id`,
        [JSON.stringify([...stored.values()])],
      );
      for (const row of found.rows) labels.set(key(row.organization_id, row.id), row.label);
    }
    // Pass 2: the sentences, with the labels set so far in the batch.
    const upserts = new Map<string, { organization_id: string; id: string; label: string }>();
    const rows = [];
    for (const record of records) {
      const org = record.organizationId;
      const event = record.data;
      const label = labelOf(event);
      if (label) {
        labels.set(key(org, label.id), label.text);
        // One row per label: an upsert may not touch the same row twice; the last one wins.
        upserts.set(key(org, label.id), { organization_id: org, id: label.id, label: label.text });
      }
      const summary = await summarize(event, async (id) => labels.get(key(org, id)) ?? id);
      if (summary === undefined) continue;
      rows.push({
        organization_id: org,
        global_position: record.globalPosition.toString(),
        project_id: event.projectId,
        stream_id: record.streamId,
        event_type: record.type,
        summary,
        user_id: record.metadata.userId,
        occurred_at: record.occurredAt.toISOString(),
      });
    }
    if (upserts.size > 0) {
      await tx.query(
        `insert into dispatch_activity_labels (organization_id, id, label)
         select * from jsonb_to_recordset($1::jsonb) as r(organization_id text, id text, label text)
         on conflict (organization_id, id) do update set label = excluded.label`,
        [JSON.stringify([...upserts.values()])],
      );
    }
    if (rows.length > 0) {
      await tx.query(
        `insert into dispatch_activity (organization_id, global_position, project_id, stream_id, event_type, summary, user_id, occurred_at)
         select * from jsonb_to_recordset($1::jsonb) as r(organization_id text, global_position bigint, project_id text,
           stream_id text, event_type text, summary text, user_id text, occurred_at timestamptz)
         on conflict do nothing`,
        [JSON.stringify(rows)],
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
