import type { Message } from "@bufbuild/protobuf";
import { ErrorCode, RpcError } from "@sluice/rpc";
import { CommandAlreadyHandled } from "../errors";
import type { EventMetadata, EventStore, ExpectedVersion, StreamAppend } from "../types";
import { aggregateStream, type AggregateState } from "./aggregateStream";
import type { Decider } from "./decider";

export interface CommandContext {
  readonly organizationId: string;
  /** Stamped by the source gateway; `commandId` makes the command idempotent. */
  readonly metadata: EventMetadata;
}

/**
 * Loads a stream's state; the append to that stream then expects the version loaded. A stream
 * whose id the command has just minted (`{ minted: true }`, e.g. from a random UUID) is not read:
 * it is empty, and the append, expecting version 0, fails with CONFLICT if it were not.
 */
export type LoadStream = <State, Event extends Message = Message>(
  decider: Decider<State, Event>,
  streamId: string,
  options?: { readonly minted?: boolean },
) => Promise<AggregateState<State>>;

/**
 * An append as a command handler returns it: a stream it loaded needs neither its type nor its
 * expected version (the loaded ones are used); a stream it did not load needs both.
 */
export type CommandAppend = Omit<StreamAppend, "streamType" | "expectedVersion"> & {
  readonly streamType?: string;
  readonly expectedVersion?: ExpectedVersion;
};

export interface CommandOutcome<R extends Message> {
  readonly appends: readonly CommandAppend[];
  /** What the caller gets back, now and on every retry of the same command id. */
  readonly result: R;
}

export interface HandleCommandOptions {
  /**
   * How many times to run `body` again, on freshly loaded state, when a stream it appends to was
   * changed meanwhile. 0 (the default) hands the CONFLICT to the caller.
   */
  readonly conflictRetries?: number;
}

/**
 * Runs a command the event-sourced way: load what it needs, decide, append with the versions it
 * saw, in one transaction with the command's result. A command id handled already in the
 * organization returns the stored result without running `body` again, also when a concurrent
 * retry wins the race. A stream changed by someone else meanwhile throws RpcError CONFLICT.
 * Only success is stored: a command refused (a rule, a conflict) may be retried under the same id
 * and succeed once the state allows it.
 */
export async function handleCommand<R extends Message>(
  store: EventStore,
  context: CommandContext,
  body: (load: LoadStream) => Promise<CommandOutcome<R>>,
  options: HandleCommandOptions = {},
): Promise<R> {
  for (let retriesLeft = options.conflictRetries ?? 0; ; retriesLeft -= 1) {
    try {
      return await attempt(store, context, body);
    } catch (error) {
      if (retriesLeft > 0 && error instanceof RpcError && error.code === ErrorCode.CONFLICT) continue;
      throw error;
    }
  }
}

async function attempt<R extends Message>(
  store: EventStore,
  context: CommandContext,
  body: (load: LoadStream) => Promise<CommandOutcome<R>>,
): Promise<R> {
  const { organizationId, metadata } = context;
  const stored = await store.commandResult(organizationId, metadata.commandId);
  // The stored result was produced by this same command, so it has the same type.
  if (stored) return stored as R;

  const loaded = new Map<string, { streamType: string; version: bigint }>();
  const load: LoadStream = async (decider, streamId, options) => {
    const aggregate = options?.minted
      ? { state: decider.initialState(), version: 0n }
      : await aggregateStream(store, organizationId, streamId, decider);
    loaded.set(streamId, { streamType: decider.streamType, version: aggregate.version });
    return aggregate;
  };
  const { appends, result } = await body(load);

  const streamAppends = appends.map((append): StreamAppend => {
    const seen = loaded.get(append.streamId);
    const streamType = append.streamType ?? seen?.streamType;
    const expectedVersion = append.expectedVersion ?? seen?.version;
    if (streamType === undefined || expectedVersion === undefined) {
      throw new Error(
        `append to ${append.streamId}: load the stream first, or give its streamType and expectedVersion`,
      );
    }
    return { streamId: append.streamId, streamType, expectedVersion, events: append.events };
  });
  try {
    await store.append({ organizationId, metadata, appends: streamAppends, result });
  } catch (error) {
    if (!(error instanceof CommandAlreadyHandled)) throw error;
    const winner = await store.commandResult(organizationId, metadata.commandId);
    if (!winner) throw error;
    return winner as R;
  }
  return result;
}
