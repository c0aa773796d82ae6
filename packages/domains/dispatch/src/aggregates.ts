import type { Message } from "@bufbuild/protobuf";
import { isDispatchEvent, type DispatchEvent } from "./events";
import { evolveOrder, initialOrderState, type OrderState } from "./order/order";
import { evolveProject, initialProjectState, type ProjectState } from "./project/project";
import { evolveRoute, initialRouteState, type RouteState } from "./route/route";
import { streamTypes } from "./streams";

/** How to rebuild one aggregate's state from its stream. */
export interface Aggregate<State> {
  readonly streamType: string;
  initialState(): State;
  evolve(state: State, event: Message): State;
}

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
};
