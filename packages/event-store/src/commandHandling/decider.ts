import type { Message } from "@bufbuild/protobuf";

/**
 * How an aggregate's state is rebuilt from its stream. `decide` lives with each command handler
 * in the domain; the store only needs to fold events into state.
 */
export interface Decider<State, Event extends Message = Message> {
  /** The aggregate kind recorded with each stream: "dispatch.order". */
  readonly streamType: string;
  initialState(): State;
  evolve(state: State, event: Event): State;
}
