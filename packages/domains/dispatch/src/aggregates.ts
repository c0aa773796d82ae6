import type { Message } from "@bufbuild/protobuf";
import type { Decider } from "@sluice/event-store";
import { isDispatchEvent, type DispatchEvent } from "./events";
import { evolveOrder, initialOrderState, type OrderState } from "./order/order";
import { evolveProject, initialProjectState, type ProjectState } from "./project/project";
import { evolveRoute, initialRouteState, type RouteState } from "./route/route";
import { streamTypes } from "./streams";

/** How to rebuild one aggregate's state from its stream, in the event store's terms. */
export type Aggregate<State> = Decider<State>;

/** Streams hold only Dispatch's events; anything else (a newer type this code does not know) is skipped. */
const evolving =
  <State>(evolve: (state: State, event: DispatchEvent) => State) =>
  (state: State, event: Message): State =>
    isDispatchEvent(event) ? evolve(state, event) : state;

export const projectAggregate: Aggregate<ProjectState> = {
  streamType: streamTypes.project,
  initialState: initialProjectState,
  evolve: evolving(evolveProject),
};

export const orderAggregate: Aggregate<OrderState> = {
  streamType: streamTypes.order,
  initialState: initialOrderState,
  evolve: evolving(evolveOrder),
};

export const routeAggregate: Aggregate<RouteState> = {
  streamType: streamTypes.route,
  initialState: initialRouteState,
  evolve: evolving(evolveRoute),
  // A route is planned by many small edits (stops added, moved, reordered): its stream grows
  // long. Its state is plain data, so it snapshots as it is.
  snapshot: { every: 100, version: 1 },
};
