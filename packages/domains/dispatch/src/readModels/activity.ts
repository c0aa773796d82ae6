import type { Queryable } from "@sluice/database";
import type { RecordedEvent } from "@sluice/event-store";
import { isOrderEvent, type DispatchEvent } from "../events";
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
    {
      id: "dispatch/006-activity-personal-data-erased",
      sql: `
        -- An order's sentence as it reads once the order's personal data is erased: written with the
        -- sentence, and put in its place by OrderPersonalDataErased. Null for other streams' sentences.
        alter table dispatch_activity add column erased_summary text;
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
    const rows: ActivityRow[] = [];
    const erasures: { organization_id: string; stream_id: string }[] = [];
    for (const record of records) {
      const org = record.organizationId;
      const event = record.data;
      const label = labelOf(event);
      if (label) {
        labels.set(key(org, label.id), label.text);
        // One row per label: an upsert may not touch the same row twice; the last one wins.
        upserts.set(key(org, label.id), { organization_id: org, id: label.id, label: label.text });
      }
      const labelled = async (id: string) => labels.get(key(org, id)) ?? id;
      if (event.$typeName === "dispatch.v1.OrderPersonalDataErased") {
        // The order's sentences so far take their erased form: those of this batch here, the
        // others in the table after this batch's rows are in.
        for (const row of rows) {
          if (row.organization_id === org && row.stream_id === record.streamId) row.summary = row.erased_summary!;
        }
        erasures.push({ organization_id: org, stream_id: record.streamId });
      }
      const summary = await summarize(event, labelled);
      if (summary === undefined) continue;
      const orderId = orderIdOf(event);
      rows.push({
        organization_id: org,
        global_position: record.globalPosition.toString(),
        project_id: event.projectId,
        stream_id: record.streamId,
        event_type: record.type,
        summary,
        erased_summary:
          orderId === undefined
            ? null
            : ((await summarize(erasedView(event), (id) =>
                id === orderId ? Promise.resolve(erasedOrderLabel(orderId)) : labelled(id),
              )) ?? null),
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
        `insert into dispatch_activity (organization_id, global_position, project_id, stream_id, event_type, summary,
           erased_summary, user_id, occurred_at)
         select organization_id, global_position, project_id, stream_id, event_type, summary, erased_summary, user_id,
           occurred_at
         from jsonb_to_recordset($1::jsonb) as r(organization_id text, global_position bigint, project_id text,
           stream_id text, event_type text, summary text, erased_summary text, user_id text, occurred_at timestamptz)
         on conflict do nothing`,
        [JSON.stringify(rows)],
      );
    }
    if (erasures.length > 0) {
      await tx.query(
        `update dispatch_activity a set summary = a.erased_summary
         from jsonb_to_recordset($1::jsonb) as e(organization_id text, stream_id text)
         where a.organization_id = e.organization_id and a.stream_id = e.stream_id and a.erased_summary is not null`,
        [JSON.stringify(erasures)],
      );
    }
  },
};

interface ActivityRow {
  readonly organization_id: string;
  readonly global_position: string;
  readonly project_id: string;
  readonly stream_id: string;
  readonly event_type: string;
  summary: string;
  readonly erased_summary: string | null;
  readonly user_id: string;
  readonly occurred_at: string;
}

/** How sentences name an order whose personal data is erased: by the start of its id. */
const erasedOrderLabel = (orderId: string) => `order ${orderId.slice(0, 8)} (erased)`;

/** The order an order's event is about; undefined for other streams' events. */
const orderIdOf = (event: DispatchEvent): string | undefined => (isOrderEvent(event) ? event.orderId : undefined);

/** The event as it reads once its order's personal data is erased. */
function erasedView(event: DispatchEvent): DispatchEvent {
  switch (event.$typeName) {
    case "dispatch.v1.OrderCreated":
    case "dispatch.v1.OrderEdited":
      return { ...event, consignee: "", address: "", personalDataErased: true };
    case "dispatch.v1.OrderCancelled":
      return { ...event, reason: "", personalDataErased: true };
    default:
      return event;
  }
}

function labelOf(event: DispatchEvent): { id: string; text: string } | undefined {
  switch (event.$typeName) {
    case "dispatch.v1.OrderCreated":
    case "dispatch.v1.OrderEdited":
      return {
        id: event.orderId,
        text: event.personalDataErased ? erasedOrderLabel(event.orderId) : `order for ${event.consignee}`,
      };
    case "dispatch.v1.OrderPersonalDataErased":
      return { id: event.orderId, text: erasedOrderLabel(event.orderId) };
    case "dispatch.v1.RouteCreated":
      return { id: event.routeId, text: `route ${event.name}` };
    default:
      return undefined;
  }
}

/** An order as a creation or an edit names it: by its consignee, or by its id once erased. */
function orderNamed(event: { orderId: string; consignee: string; personalDataErased: boolean }): string {
  return event.personalDataErased ? erasedOrderLabel(event.orderId) : `order for ${event.consignee}`;
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
      return `created ${orderNamed(event)} (${formatKg(event.weightKg)})`;
    case "dispatch.v1.OrderEdited":
      return `edited ${orderNamed(event)} (${formatKg(event.weightKg)})`;
    case "dispatch.v1.OrderCancelled":
      return `cancelled ${await label(event.orderId)}${event.reason ? `: ${event.reason}` : ""}`;
    case "dispatch.v1.OrderPersonalDataErased":
      return `erased the personal data of order ${event.orderId.slice(0, 8)}`;
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
