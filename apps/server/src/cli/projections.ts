// The projections the server runs, by name: what the rebuild command can rebuild.
import type { Database } from "@sluice/database";
import { createDispatchModule } from "@sluice/dispatch";
import type { EventStore, Projection } from "@sluice/event-store";

/** Each as the server starts it with startProjection (server.ts). */
export function serverProjections(db: Database, store: EventStore): readonly Projection[] {
  return [createDispatchModule({ db, store }).readModels];
}
