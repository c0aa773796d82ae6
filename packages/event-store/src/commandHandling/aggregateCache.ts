import { LRUCache } from "lru-cache";
import type { AggregateState } from "./aggregateStream";
import type { Decider } from "./decider";

interface Entry {
  readonly decider: Decider<unknown, never>;
  readonly state: unknown;
  readonly version: bigint;
}

/**
 * Aggregate states kept in this process between commands, keyed by organization and stream id,
 * least recently used dropped first. An entry may be stale (another process appended): it is only
 * trusted where the append checks its version (`handleCommand` appends to or guards every stream
 * it served from here, or reads it again), so a stale entry costs a CONFLICT and a fresh retry,
 * never a wrong decision. States are shared: `evolve` and command bodies must not mutate them.
 */
export interface AggregateCache {
  get<State>(
    organizationId: string,
    streamId: string,
    decider: Decider<State, never>,
  ): AggregateState<State> | undefined;
  /** Keeps `aggregate` unless a newer version is kept already. */
  set<State>(
    organizationId: string,
    streamId: string,
    decider: Decider<State, never>,
    aggregate: AggregateState<State>,
  ): void;
  delete(organizationId: string, streamId: string): void;
}

export function createAggregateCache({ maxEntries = 10_000 }: { readonly maxEntries?: number } = {}): AggregateCache {
  const entries = new LRUCache<string, Entry>({ max: maxEntries });
  const keyOf = (organizationId: string, streamId: string) => `${organizationId}\u0000${streamId}`;
  return {
    get<State>(organizationId: string, streamId: string, decider: Decider<State, never>) {
      const entry = entries.get(keyOf(organizationId, streamId));
      if (!entry || entry.decider !== decider) return undefined;
      return { state: entry.state as State, version: entry.version };
    },
    set<State>(
      organizationId: string,
      streamId: string,
      decider: Decider<State, never>,
      aggregate: AggregateState<State>,
    ) {
      const key = keyOf(organizationId, streamId);
      const kept = entries.peek(key);
      if (kept && kept.decider === decider && kept.version > aggregate.version) return;
      entries.set(key, {
        decider: decider as Decider<unknown, never>,
        state: aggregate.state,
        version: aggregate.version,
      });
    },
    delete(organizationId, streamId) {
      entries.delete(keyOf(organizationId, streamId));
    },
  };
}
