import type { Message } from "@bufbuild/protobuf";
import { ErrorCode, RpcError } from "@sluice/rpc";
import { CommandAlreadyHandled } from "../errors";
import type { EventMetadata, EventStore, ExpectedVersion, StreamAppend } from "../types";
import type { AggregateCache } from "./aggregateCache";
import { aggregateStream, snapshotIfDue, type AggregateState } from "./aggregateStream";
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
  /**
   * Where `load` takes a stream's state instead of reading it, and where appends leave the new
   * state. A body that ran on an entry is run once more on fresh reads when its append conflicts
   * or it throws; a stream served from the cache that the body neither appends to nor guards
   * (an empty append) is read again to check its version, so only those save a read.
   */
  readonly cache?: AggregateCache;
}

/**
 * Runs a command the event-sourced way: load what it needs, decide, append with the versions it
 * saw, in one transaction with the command's result. A command id handled already in the
 * organization returns the stored result and appends nothing, also when a concurrent retry wins
 * the race. The stored result is not looked up first (that would be one statement more on every
 * command): `body` runs, and the append refuses a handled id; when it does, or when `body` throws
 * (a retry decided against newer state may break a rule the first run passed), the stored result
 * is returned if there is one. So `body` may run again for a retry and must not act outside its
 * return value. A stream changed by someone else meanwhile throws RpcError CONFLICT.
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
      return await attemptWithCache(store, context, body, options.cache);
    } catch (error) {
      if (retriesLeft > 0 && error instanceof RpcError && error.code === ErrorCode.CONFLICT) continue;
      throw error;
    }
  }
}

/** Thrown by an attempt that decided on cached state that may be stale: run it again on fresh reads. */
class StaleCache extends Error {
  constructor(cause: unknown) {
    super("decided on cached state that may be stale", { cause });
  }
}

async function attemptWithCache<R extends Message>(
  store: EventStore,
  context: CommandContext,
  body: (load: LoadStream) => Promise<CommandOutcome<R>>,
  cache: AggregateCache | undefined,
): Promise<R> {
  try {
    return await attempt(store, context, body, cache, true);
  } catch (error) {
    if (!(error instanceof StaleCache)) throw error;
    return attempt(store, context, body, cache, false);
  }
}

async function attempt<R extends Message>(
  store: EventStore,
  context: CommandContext,
  body: (load: LoadStream) => Promise<CommandOutcome<R>>,
  cache: AggregateCache | undefined,
  readCache: boolean,
): Promise<R> {
  const { organizationId, metadata } = context;
  // The stored result was produced by this same command, so it has the same type.
  const storedResult = async (error: unknown): Promise<R> => {
    const stored = await store.commandResult(organizationId, metadata.commandId).catch(() => undefined);
    if (!stored) throw error;
    return stored as R;
  };

  interface Loaded extends AggregateState<unknown> {
    readonly decider: Decider<unknown, never>;
    readonly cached: boolean;
  }
  const loaded = new Map<string, Loaded>();
  const load: LoadStream = async (decider, streamId, options) => {
    let aggregate = options?.minted
      ? { state: decider.initialState(), version: 0n }
      : readCache
        ? cache?.get(organizationId, streamId, decider)
        : undefined;
    const cached = !options?.minted && aggregate !== undefined;
    if (!aggregate) {
      aggregate = await aggregateStream(store, organizationId, streamId, decider);
      cache?.set(organizationId, streamId, decider, aggregate);
    }
    loaded.set(streamId, { ...aggregate, decider: decider as Decider<unknown, never>, cached });
    return aggregate;
  };
  const cachedLoads = () => [...loaded].filter(([, seen]) => seen.cached).map(([streamId]) => streamId);
  /** Drops what this attempt took from the cache, and asks for a run on fresh reads. */
  const stale = (error: unknown) => {
    for (const streamId of cachedLoads()) cache?.delete(organizationId, streamId);
    return new StaleCache(error);
  };
  let outcome: CommandOutcome<R>;
  try {
    outcome = await body(load);
  } catch (error) {
    // A rule may have been judged on a stale entry.
    if (cachedLoads().length > 0) throw stale(error);
    // A retry of a command that succeeded, decided again on newer state, may now be refused.
    return storedResult(error);
  }
  const { appends, result } = outcome;
  // A stream served from the cache that the append does not check is checked here.
  const appended = new Set(appends.filter((a) => a.expectedVersion === undefined).map((a) => a.streamId));
  for (const streamId of cachedLoads()) {
    if (appended.has(streamId)) continue;
    const seen = loaded.get(streamId)!;
    const fresh = await aggregateStream(store, organizationId, streamId, seen.decider);
    if (fresh.version !== seen.version) throw stale(undefined);
  }

  const streamAppends = appends.map((append): StreamAppend => {
    const seen = loaded.get(append.streamId);
    const streamType = append.streamType ?? seen?.decider.streamType;
    const expectedVersion = append.expectedVersion ?? seen?.version;
    if (streamType === undefined || expectedVersion === undefined) {
      throw new Error(
        `append to ${append.streamId}: load the stream first, or give its streamType and expectedVersion`,
      );
    }
    return { streamId: append.streamId, streamType, expectedVersion, events: append.events, close: append.close };
  });
  let versions: ReadonlyMap<string, bigint>;
  try {
    ({ versions } = await store.append({ organizationId, metadata, appends: streamAppends, result }));
  } catch (error) {
    if (error instanceof CommandAlreadyHandled) return storedResult(error);
    if (error instanceof RpcError && error.code === ErrorCode.CONFLICT && cachedLoads().length > 0) throw stale(error);
    throw error;
  }
  // The state each loaded stream reached: kept in the cache, and snapshotted when due.
  for (const append of appends) {
    const seen = loaded.get(append.streamId);
    const version = versions.get(append.streamId);
    if (!seen || version !== seen.version + BigInt(append.events.length)) {
      cache?.delete(organizationId, append.streamId);
      continue;
    }
    if (!cache && !seen.decider.snapshot) continue;
    const state = append.events.reduce((current, event) => seen.decider.evolve(current, event as never), seen.state);
    cache?.set(organizationId, append.streamId, seen.decider, { state, version });
    // The command has committed: a snapshot that fails to save is only a slower load later.
    await snapshotIfDue(store, organizationId, append.streamId, seen.decider, seen.version, { state, version }).catch(
      (error: unknown) => console.warn(`snapshot of ${append.streamId} not saved`, error),
    );
  }
  return result;
}
