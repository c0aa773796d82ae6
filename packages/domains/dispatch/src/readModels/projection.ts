import type { Migration } from "@sluice/database";
import type { Projection, RecordedEvent } from "@sluice/event-store";
import { isDispatchEvent, type DispatchEvent } from "../events";

/**
 * A read model: its tables (created by migrations, the same SQL on PGlite and PostgreSQL) and the
 * fold of events into them, as the event store's `startProjection` runs it: `handle` runs in the
 * transaction that also moves the checkpoint, so each batch lands once.
 */
export interface ReadModel extends Projection {
  readonly migrations: readonly Migration[];
}

/** A recorded event whose data is one of Dispatch's events, narrowed for a switch on its type. */
export type DispatchRecord = RecordedEvent & { readonly data: DispatchEvent };

/** Dispatch's events of a batch, in order; the log also carries other contexts' events. */
export function dispatchRecords(events: readonly RecordedEvent[]): DispatchRecord[] {
  return events.filter((event): event is DispatchRecord => isDispatchEvent(event.data));
}
