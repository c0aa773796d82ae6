import type { Message } from "@bufbuild/protobuf";
import { CommandAlreadyHandled, type EventMetadata, type EventStore, type StreamAppend } from "@sluice/event-store";
import type { CallContext } from "@sluice/rpc";
import type { Aggregate } from "../aggregates";
import { streamOf, type DispatchEvent } from "../events";

export interface Loaded<State> {
  readonly state: State;
  readonly version: bigint;
}

export interface Decision<R extends Message> {
  readonly events: readonly DispatchEvent[];
  /**
   * The reply, given the version each written stream reached; when the decision writes nothing
   * (the command changes nothing), the versions of the streams it loaded.
   */
  reply(versions: ReadonlyMap<string, bigint>): R;
}

export type Load = <State>(aggregate: Aggregate<State>, streamId: string) => Promise<Loaded<State>>;

export function metadataOf(context: CallContext): EventMetadata {
  return {
    userId: context.session.userId,
    commandId: context.commandId,
    correlationId: context.correlationId,
    traceparent: context.traceparent,
  };
}

/**
 * One command, once: a retry with the same command id gets the first reply back. Loads the
 * aggregates the decision needs, and appends its events, each to the stream `streamOf` names,
 * atomically and at the versions that were loaded, so a concurrent change to any of them is a
 * CONFLICT rather than a lost update. A stream that is written must have been loaded.
 */
export async function handleDispatchCommand<R extends Message>(
  store: EventStore,
  context: CallContext,
  decide: (load: Load) => Promise<Decision<R>>,
): Promise<R> {
  const organizationId = context.session.organizationId;
  const earlier = await store.commandResult(organizationId, context.commandId);
  if (earlier) return earlier as R;

  const loaded = new Map<string, bigint>();
  const load: Load = async (aggregate, streamId) => {
    const stream = await store.readStream(organizationId, streamId);
    loaded.set(streamId, stream.version);
    return { state: stream.events.map((event) => event.data).reduce(aggregate.evolve, aggregate.initialState()), version: stream.version };
  };
  const decision = await decide(load);

  const appends = new Map<string, StreamAppend & { events: DispatchEvent[] }>();
  for (const event of decision.events) {
    const { streamId, streamType } = streamOf(event);
    let append = appends.get(streamId);
    if (!append) {
      const version = loaded.get(streamId);
      if (version === undefined) throw new Error(`${streamId} is written without being loaded`);
      append = { streamId, streamType, expectedVersion: version === 0n ? "no_stream" : version, events: [] };
      appends.set(streamId, append);
    }
    append.events.push(event);
  }
  const reached = new Map<string, bigint>();
  for (const append of appends.values()) reached.set(append.streamId, (loaded.get(append.streamId) ?? 0n) + BigInt(append.events.length));
  const reply = decision.reply(reached.size > 0 ? reached : loaded);
  if (appends.size === 0) return reply;

  try {
    await store.append({ organizationId, metadata: metadataOf(context), appends: [...appends.values()], result: reply });
  } catch (error) {
    if (!(error instanceof CommandAlreadyHandled)) throw error;
    const stored = await store.commandResult(organizationId, context.commandId);
    if (!stored) throw error;
    return stored as R;
  }
  return reply;
}
