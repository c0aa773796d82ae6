import { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { DispatchQueryService } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { migrate, type Database } from "@sluice/database";
import { createDispatchModule, type DispatchModule } from "@sluice/dispatch";
import type { EventStore } from "@sluice/event-store";
import { Router } from "@sluice/rpc";

export interface DispatchContext {
  readonly dispatch: DispatchModule;
  /** Dispatch's commands and queries: the methods a gateway admits and a domain service runs. */
  readonly router: Router;
}

/**
 * The Dispatch bounded context on its database, read-model tables created. `readModelsCurrent`:
 * what a query waits for (read your writes): the projection's progress, in this process or another.
 */
export async function openDispatch(
  db: Database,
  store: EventStore,
  readModelsCurrent?: () => Promise<void>,
): Promise<DispatchContext> {
  const dispatch = createDispatchModule({ db, store, ...(readModelsCurrent && { readModelsCurrent }) });
  await migrate(db, dispatch.migrations);
  const router = new Router()
    .service(DispatchCommandService, dispatch.commands)
    .service(DispatchQueryService, dispatch.queries);
  return { dispatch, router };
}
