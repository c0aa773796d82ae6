import { createEventStore, projectionCheckpointName, startProjection } from "@sluice/event-store";
import { openDispatch } from "../dispatch-context";
import type { ProjectorConfig } from "./config";
import { runElected } from "./elected";
import { openPostgres, startRole, type RunningRole } from "./role-process";

/**
 * Dispatch's read models in the scale-out shape: one checkpointed consumer of the event store's
 * log on PostgreSQL (one read, one transaction, one checkpoint per batch for all read models).
 * Several projectors may run: one, elected, projects; the others stand by and take over when it
 * stops, dies or loses its connection. Its lease is named after the checkpoint it guards.
 */
export function startProjectorRole(config: ProjectorConfig): Promise<RunningRole> {
  return startRole(config, async (parts) => {
    const db = await openPostgres(config.database, parts.cleanups);
    const store = await createEventStore(db, { personalData: { masterKey: config.personalDataKey } });
    const { dispatch } = await openDispatch(db, store);
    return runElected(parts, db, projectionCheckpointName(dispatch.readModels.name), config.leaseRetryMs, () =>
      startProjection(db, store, dispatch.readModels),
    );
  });
}
