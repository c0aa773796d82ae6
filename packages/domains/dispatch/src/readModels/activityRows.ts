import { isOrderEvent, type DispatchEvent } from "../events";
import { formatKg } from "../rules";
import type { DispatchRecord } from "./projection";
import { ByOrganization, isoText, type ReadonlyByOrganization } from "./sql";

/** A row of `dispatch_activity`, as the fold makes it. */
export interface ActivityRow {
  readonly organization_id: string;
  readonly global_position: string;
  readonly project_id: string;
  readonly stream_id: string;
  readonly event_type: string;
  readonly summary: string;
  /** The sentence once its order's personal data is erased; null for other streams' sentences. */
  readonly erased_summary: string | null;
  readonly user_id: string;
  readonly occurred_at: string;
}

/** A row of `dispatch_activity_labels`: how sentences name an order or a route. */
export interface LabelRow {
  readonly organization_id: string;
  readonly id: string;
  readonly label: string;
}

/** An order's erasure: its sentences logged before `before_position` take their erased form. */
export interface ActivityErasure {
  readonly organization_id: string;
  readonly stream_id: string;
  readonly before_position: string;
}

/** What a batch writes: labels to upsert, sentences to insert, and erasures of earlier sentences. */
export interface ActivityChanges {
  readonly labels: LabelRow[];
  readonly rows: ActivityRow[];
  readonly erasures: ActivityErasure[];
}

/** A label's key, as a row of a `jsonRows` parameter ("organization_id text, id text"). */
export type LabelKey = readonly [organizationId: string, id: string];

/** The labels a batch reads before it sets them itself: those must come from the table. */
export function labelsNeeded(records: readonly DispatchRecord[]): LabelKey[] {
  const needed = new ByOrganization<LabelKey>();
  const setSoFar = new ByOrganization<true>();
  for (const { organizationId: org, data: event } of records) {
    const label = labelOf(event);
    if (label) setSoFar.set(org, label.id, true);
    summarize(event, (id) => {
      if (!setSoFar.has(org, id)) needed.set(org, id, [org, id]);
      return id;
    });
  }
  return [...needed.values()];
}

/**
 * The batch as sentences, each naming orders and routes by their labels as they stood at its
 * event: `stored` holds those `labelsNeeded` names that the table has, the rest the
 * batch sets as it goes. An erasure rewrites the order's sentences of the batch before it here,
 * and asks for the earlier ones in the table to be rewritten.
 */
export function foldActivity(
  stored: ReadonlyByOrganization<string>,
  records: readonly DispatchRecord[],
): ActivityChanges {
  const labels = stored.copy();
  const labelled = (org: string, id: string) => labels.get(org, id) ?? id;
  // One row per label: an upsert may not touch the same row twice; the last one wins.
  const upserts = new ByOrganization<LabelRow>();
  const rows: ActivityRow[] = [];
  const erasures: ActivityErasure[] = [];
  for (const record of records) {
    const org = record.organizationId;
    const event = record.data;
    const label = labelOf(event);
    if (label) {
      labels.set(org, label.id, label.text);
      upserts.set(org, label.id, { organization_id: org, id: label.id, label: label.text });
    }
    if (event.$typeName === "dispatch.v1.OrderPersonalDataErased") {
      rows.forEach((row, i) => {
        if (row.organization_id === org && row.stream_id === record.streamId && row.erased_summary !== null)
          rows[i] = { ...row, summary: row.erased_summary };
      });
      erasures.push({
        organization_id: org,
        stream_id: record.streamId,
        before_position: record.globalPosition.toString(),
      });
    }
    const summary = summarize(event, (id) => labelled(org, id));
    if (summary === undefined) continue;
    const orderId = isOrderEvent(event) ? event.orderId : undefined;
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
          : (summarize(erasedView(event), (id) => (id === orderId ? erasedOrderLabel(orderId) : labelled(org, id))) ??
            null),
      user_id: record.metadata.userId,
      occurred_at: isoText(record.occurredAt),
    });
  }
  return { labels: [...upserts.values()], rows, erasures };
}

/** How sentences name an order whose personal data is erased: by the start of its id. */
const erasedOrderLabel = (orderId: string) => `order ${orderId.slice(0, 8)} (erased)`;

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
      return { id: event.orderId, text: orderNamed(event) };
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
export function summarize(event: DispatchEvent, label: (id: string) => string): string | undefined {
  switch (event.$typeName) {
    case "dispatch.v1.ProjectCreated":
      return `created project ${event.name}`;
    case "dispatch.v1.OrderCreated":
      return `created ${orderNamed(event)} (${formatKg(event.weightKg)})`;
    case "dispatch.v1.OrderEdited":
      return `edited ${orderNamed(event)} (${formatKg(event.weightKg)})`;
    case "dispatch.v1.OrderCancelled":
      return `cancelled ${label(event.orderId)}${event.reason ? `: ${event.reason}` : ""}`;
    case "dispatch.v1.OrderPersonalDataErased":
      return `erased the personal data of order ${event.orderId.slice(0, 8)}`;
    case "dispatch.v1.OrderAssigned":
      return `put ${label(event.orderId)} on ${label(event.routeId)}`;
    case "dispatch.v1.OrderUnassigned":
      return `took ${label(event.orderId)} off ${label(event.routeId)}`;
    case "dispatch.v1.OrderDelivered":
      return `delivered ${label(event.orderId)} with ${label(event.routeId)}`;
    case "dispatch.v1.RouteCreated":
      return `created route ${event.name} (${formatKg(event.vehicleCapacityKg)} capacity)`;
    case "dispatch.v1.StopsReordered":
      return `reordered the stops of ${label(event.routeId)}`;
    case "dispatch.v1.RouteDispatched":
      return `dispatched ${label(event.routeId)}`;
    case "dispatch.v1.RouteCompleted":
      return `completed ${label(event.routeId)}`;
    case "dispatch.v1.StopAdded":
    case "dispatch.v1.StopRemoved":
    case "dispatch.v1.StopWeightChanged":
      return undefined;
  }
}
