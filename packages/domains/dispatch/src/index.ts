// The Dispatch bounded context: projects, orders and routes as pure decide/evolve, the command
// and query services, the read models that answer queries, and which channels each event reaches.
import type { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import type { DispatchQueryService } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import type { Database, Migration } from "@sluice/database";
import { combineProjections, type EventStore, type Projection } from "@sluice/event-store";
import type { ServiceImpl } from "@sluice/rpc";
import { channelsOf } from "./channels";
import { createCommandService } from "./commands/commandService";
import { createQueryService } from "./queries/queryService";
import { activityFeed } from "./readModels/activity";
import { orderBoard } from "./readModels/orderBoard";
import type { ReadModel } from "./readModels/projection";
import { projectsList } from "./readModels/projects";
import { routeSheets } from "./readModels/routeSheets";

export interface DispatchModule {
  readonly commands: ServiceImpl<typeof DispatchCommandService>;
  readonly queries: ServiceImpl<typeof DispatchQueryService>;
  /**
   * Every read model as one projection (`dispatch.read-models`): one read of the log, one
   * transaction and one checkpoint per batch for all. Run it with the event store's
   * `startProjection` (it takes over the checkpoints the read models had when run one by one).
   */
  readonly readModels: Projection;
  readonly channelsOf: typeof channelsOf;
  /** Every read model's tables; run with `migrate` before the projections start. */
  readonly migrations: readonly Migration[];
}

export const dispatchProjections: readonly ReadModel[] = [projectsList, orderBoard, routeSheets, activityFeed];

/** The one projection all of Dispatch's read models run as (one read, transaction and checkpoint per batch). */
export const dispatchReadModelsName = "dispatch.read-models";

export function createDispatchModule({
  db,
  store,
  readModelsCurrent,
}: {
  db: Database;
  store: EventStore;
  /** Resolves once the read models hold everything committed so far: queries then read their writes. */
  readModelsCurrent?: () => Promise<void>;
}): DispatchModule {
  return {
    commands: createCommandService(store),
    queries: createQueryService(db, readModelsCurrent),
    readModels: combineProjections(dispatchReadModelsName, dispatchProjections),
    channelsOf,
    migrations: dispatchReadModelMigrations,
  };
}

/**
 * The query service alone, over the read models' database: what an edge that sends commands
 * elsewhere (the scale-out source gateway) serves itself. `readModelsCurrent` as for the module.
 */
export function createDispatchQueries(
  db: Database,
  readModelsCurrent?: () => Promise<void>,
): ServiceImpl<typeof DispatchQueryService> {
  return createQueryService(db, readModelsCurrent);
}

/** Every read model's tables; the same list as a module's `migrations`. */
export const dispatchReadModelMigrations: readonly Migration[] = dispatchProjections.flatMap(
  (projection) => projection.migrations,
);

export { channelsOf, orgChannel, projectChannel, routeChannel } from "./channels";
export type { DispatchEvent } from "./events";
export type { ReadModel } from "./readModels/projection";
export { rules, type RuleId } from "./rules";
export { seedDemoDispatch, type DemoDispatch } from "./seed";
export { orderStreamId, projectStreamId, routeStreamId, streamTypes } from "./streams";
