import type { Message } from "@bufbuild/protobuf";
import {
  handleCommand,
  type CommandAppend,
  type EventMetadata,
  type EventStore,
  type HandleCommandOptions,
  type LoadStream,
} from "@sluice/event-store";
import type { CallContext } from "@sluice/rpc";
import { streamOf, type DispatchEvent } from "../events";

export interface Decision<R extends Message> {
  readonly events: readonly DispatchEvent[];
  /**
   * The reply, given the version each written stream reached; when the decision writes nothing
   * (the command changes nothing), the versions of the streams it loaded.
   */
  reply(versions: ReadonlyMap<string, bigint>): R;
  /**
   * Streams read for a rule but not written, that must still be at the loaded version when the
   * events are appended (an empty append checks the version): an order edited while its route
   * is being dispatched must conflict, not slip onto a route that has left.
   */
  readonly guards?: readonly string[];
  /**
   * Streams the append closes once its events are in (a completed route): the store refuses any
   * later event to them, and may archive them. Each must be loaded.
   */
  readonly closes?: readonly string[];
}

export function metadataOf(context: CallContext): EventMetadata {
  return {
    userId: context.session.userId,
    commandId: context.commandId,
    correlationId: context.correlationId,
    traceparent: context.traceparent,
  };
}

/**
 * Dispatch's side of `handleCommand`: decisions return one list of events, and each goes to the
 * stream `streamOf` names, at the version that stream was loaded at. So a decision spanning an
 * order and two routes is one atomic append, and a concurrent change to any of them a CONFLICT.
 */
export function handleDispatchCommand<R extends Message>(
  store: EventStore,
  context: CallContext,
  decide: (load: LoadStream) => Promise<Decision<R>>,
  options?: HandleCommandOptions,
): Promise<R> {
  return handleCommand(
    store,
    { organizationId: context.session.organizationId, metadata: metadataOf(context) },
    async (load) => {
      const loaded = new Map<string, bigint>();
      const tracked: LoadStream = async (decider, streamId, options) => {
        const aggregate = await load(decider, streamId, options);
        loaded.set(streamId, aggregate.version);
        return aggregate;
      };
      const decision = await decide(tracked);
      const appends = new Map<string, { streamId: string; events: DispatchEvent[]; close?: true }>();
      for (const event of decision.events) {
        const { streamId } = streamOf(event);
        if (!loaded.has(streamId)) throw new Error(`${streamId} is written without being loaded`);
        const append = appends.get(streamId) ?? { streamId, events: [] };
        append.events.push(event);
        appends.set(streamId, append);
      }
      const reached = new Map<string, bigint>();
      for (const { streamId, events } of appends.values())
        reached.set(streamId, (loaded.get(streamId) ?? 0n) + BigInt(events.length));
      const result = decision.reply(reached.size > 0 ? reached : loaded);
      if (appends.size > 0) {
        for (const streamId of decision.guards ?? []) {
          if (!loaded.has(streamId)) throw new Error(`${streamId} is guarded without being loaded`);
          if (!appends.has(streamId)) appends.set(streamId, { streamId, events: [] });
        }
      }
      for (const streamId of decision.closes ?? []) {
        if (!loaded.has(streamId)) throw new Error(`${streamId} is closed without being loaded`);
        appends.set(streamId, { streamId, events: [], ...appends.get(streamId), close: true });
      }
      return { appends: [...appends.values()] satisfies CommandAppend[], result };
    },
    options,
  );
}
