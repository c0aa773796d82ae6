import { migrate, type Database, type Migration, type Queryable } from "@sluice/database";
import type { EventStore, RecordedEvent } from "../types";
import { startConsumer, type Consumer, type ConsumerOptions } from "./startConsumer";

/** A read model: its tables (migrations) and how events change them. */
export interface Projection {
  /** Also the name of its checkpoint. */
  readonly name: string;
  readonly migrations?: readonly Migration[];
  /** Writes through `tx` only: it commits with the checkpoint, so each event counts exactly once. */
  handle(tx: Queryable, events: readonly RecordedEvent[]): Promise<void>;
}

/** Creates the projection's tables if needed, then keeps it up to date from the log. */
export async function startProjection(
  db: Database,
  store: EventStore,
  projection: Projection,
  options: Omit<ConsumerOptions, "name" | "handle"> = {},
): Promise<Consumer> {
  await migrate(db, projection.migrations ?? []);
  return startConsumer(db, store, {
    ...options,
    name: `projection:${projection.name}`,
    handle: (events, tx) => projection.handle(tx, events),
  });
}
