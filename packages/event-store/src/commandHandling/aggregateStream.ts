import type { Message } from "@bufbuild/protobuf";
import type { EventStore } from "../types";
import type { Decider } from "./decider";

export interface AggregateState<State> {
  readonly state: State;
  /** The stream's version, 0 when it does not exist: the expected version of the next append. */
  readonly version: bigint;
}

/** Folds one organization's stream into state. Another organization's stream folds as empty. */
export async function aggregateStream<State, Event extends Message = Message>(
  store: EventStore,
  organizationId: string,
  streamId: string,
  decider: Decider<State, Event>,
): Promise<AggregateState<State>> {
  const stream = await store.readStream(organizationId, streamId);
  const state = stream.events.reduce(
    (current, event) => decider.evolve(current, event.data as Event),
    decider.initialState(),
  );
  return { state, version: stream.version };
}
