import { createEventStore, startProjection } from "@sluice/event-store";
import { openDispatch } from "../dispatch-context";
import type { ProjectorConfig } from "./config";
import { openPostgres, startRole, type RunningRole } from "./role-process";

/**
 * Dispatch's read models in the scale-out shape: one checkpointed consumer of the event store's
 * log on PostgreSQL (one read, one transaction, one checkpoint per batch for all read models).
 * Several projectors may run: each does a batch's work, only the one that moves the checkpoint
 * first commits and the others reload, so a second instance takes over at once when the first
 * stops, but adds load, not throughput.
 */
export function startProjectorRole(config: ProjectorConfig): Promise<RunningRole> {
  return startRole(config, async ({ cleanups }) => {
    const db = await openPostgres(config.database, cleanups);
    const store = await createEventStore(db, { personalData: { masterKey: config.personalDataKey } });
    const { dispatch } = await openDispatch(db, store);
    const readModels = await startProjection(db, store, dispatch.readModels);
    cleanups.push(() => readModels.stop());
  });
}
