import type { JsonValue, Message } from "@bufbuild/protobuf";
import type { EventStore } from "../types";
import type { Decider } from "./decider";

export interface AggregateState<State> {
  readonly state: State;
  /** The stream's version, 0 when it does not exist: the expected version of the next append. */
  readonly version: bigint;
}

/**
 * Folds one organization's stream into state, from its latest usable snapshot when the decider
 * takes snapshots. Another organization's stream folds as empty.
 */
export async function aggregateStream<State, Event extends Message = Message>(
  store: EventStore,
  organizationId: string,
  streamId: string,
  decider: Decider<State, Event>,
): Promise<AggregateState<State>> {
  const policy = decider.snapshot;
  const snapshot = policy && (await store.readSnapshot(organizationId, streamId));
  const usable = snapshot && snapshot.snapshotVersion === policy.version ? snapshot : undefined;
  let stream = await store.readStream(organizationId, streamId, { fromVersion: usable?.streamVersion ?? 0n });
  let start = decider.initialState();
  if (usable) {
    // A stream behind its snapshot was not the one snapshotted: fold it whole.
    if (stream.version >= usable.streamVersion) {
      start = policy!.fromJson ? policy!.fromJson(usable.state) : (usable.state as State);
    } else stream = await store.readStream(organizationId, streamId);
  }
  const state = stream.events.reduce((current, event) => decider.evolve(current, event.data as Event), start);
  return { state, version: stream.version };
}

/** Saves a snapshot when an append took the stream from `before` past a multiple of the decider's `every`. */
export async function snapshotIfDue<State>(
  store: EventStore,
  organizationId: string,
  streamId: string,
  decider: Decider<State, never>,
  before: bigint,
  after: AggregateState<State>,
): Promise<void> {
  const policy = decider.snapshot;
  if (!policy) return;
  const every = BigInt(policy.every);
  if (before / every === after.version / every) return;
  const state = policy.toJson ? policy.toJson(after.state) : (after.state as JsonValue);
  await store.saveSnapshot(organizationId, {
    streamId,
    streamVersion: after.version,
    snapshotVersion: policy.version,
    state,
  });
}
