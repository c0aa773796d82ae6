import type { Publication, PresenceChange, StreamPosition } from "@sluice/contracts/gen/sluice/v1/envelope_pb";

/**
 * Streams whose last published version each channel remembers, at least, to drop redeliveries: a
 * redelivery is at most what one consumer batch held (1,000 events), seconds after the first time.
 */
export const streamsRemembered = 1_000;

/** What a publisher hands the broker: a publication the broker has not yet given a position. */
export type UnpositionedPublication = Omit<Publication, "offset" | "epoch">;

/**
 * Receives what the broker delivers on the channels its owner subscribed to. One listener per
 * edge (not per socket): the edge fans out to its own sockets.
 */
export interface BrokerListener {
  publication(channel: string, publication: Publication): void;
  presence(channel: string, change: PresenceChange): void;
  /**
   * Publications on the channel may have been lost before reaching this listener, and the broker
   * cannot deliver them: it came back without the channel's state (a Redis restarted empty: a new
   * epoch), or it was away from the channel longer than the history reaches. `position` is the
   * channel's position when the broker found out; deliveries go on from there. Told once per loss,
   * before any publication that follows it. A broker that never loses state (MemoryBroker: its
   * state and its listeners end together) never calls it.
   */
  stateLost(channel: string, position: StreamPosition): void;
}

/** A channel's retained publications after a position, or the news that the gap cannot be filled. */
export interface History {
  /** The channel's position now: its latest offset and its epoch. */
  readonly position: StreamPosition;
  /**
   * True when `publications` holds every publication after the requested position. False when
   * that position is older than the retained history, ahead of the channel, or from another epoch.
   */
  readonly recovered: boolean;
  /**
   * Recovered: every publication after the requested position. Not recovered because that
   * position is of an epoch the channel no longer has (its history was lost: a Redis restarted
   * empty, a channel idle past its TTL): every publication of the current epoch, when the channel
   * still retains them all (none trimmed), else none. What came after the old position in its own
   * epoch is lost, but what the new epoch carried is not: a reader that only heard of the loss
   * late (a publication of the new epoch went out before its edge listened again) still gets it,
   * rather than having it folded into a refetch that may not show it yet.
   */
  readonly publications: readonly Publication[];
}

/**
 * Channels with ordered, positioned publications. Channel names are opaque here: the sink gateway
 * scopes them by organization before they reach the broker. MemoryBroker (embedded) and
 * RedisBroker (scale-out) pass one contract suite (broker-contract.ts).
 */
export interface Broker {
  /**
   * Gives the publication the channel's next offset (and its epoch), keeps it in the channel's
   * bounded history, and delivers it to every subscribed listener. A publication whose metadata
   * names a stream version the channel has carried already (or a later one of that stream) is an
   * event delivered again, by an at-least-once bus after a sink crashed or its partitions moved:
   * it is not published again, and publish resolves with undefined. The versions of at least the
   * last `streamsRemembered` streams published on a channel are remembered.
   */
  publish(channel: string, publication: UnpositionedPublication): Promise<Publication | undefined>;
  /** Delivers a presence change (join or leave) to the channel's listeners. Not kept in history. */
  publishPresence(channel: string, change: PresenceChange): Promise<void>;
  subscribe(channel: string, listener: BrokerListener): Promise<void>;
  unsubscribe(channel: string, listener: BrokerListener): Promise<void>;
  /** The publications after `since` (see History), or just the current position when `since` is absent. */
  history(channel: string, since?: StreamPosition): Promise<History>;
  close(): Promise<void>;
}
