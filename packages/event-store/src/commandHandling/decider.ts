import type { JsonValue, Message } from "@bufbuild/protobuf";

/**
 * How an aggregate's state is rebuilt from its stream. `decide` lives with each command handler
 * in the domain; the store only needs to fold events into state.
 */
export interface Decider<State, Event extends Message = Message> {
  /** The aggregate kind recorded with each stream: "dispatch.order". */
  readonly streamType: string;
  initialState(): State;
  evolve(state: State, event: Event): State;
  /** Snapshots for long streams: loading then reads the latest snapshot and the events after it. */
  readonly snapshot?: SnapshotPolicy<State>;
}

export interface SnapshotPolicy<State> {
  /** A snapshot is taken when an append takes the stream past a multiple of this many events. */
  readonly every: number;
  /** Bump it when State's shape or `evolve` changes: snapshots of another version are ignored. */
  readonly version: number;
  /** State as JSON and back; plain data (strings, numbers, arrays, objects) needs neither. */
  readonly toJson?: (state: State) => JsonValue;
  readonly fromJson?: (json: JsonValue) => State;
}
