import { create } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { registry } from "@sluice/contracts";
import {
  StreamPositionSchema,
  type PresenceChange,
  type PresenceMember,
  type Publication as PublicationFrame,
  type StreamPosition as StreamPositionFrame,
  type Subscribed,
} from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { ChannelCursor, type StreamPosition } from "./channel-cursor";
import type { SubscribeOptions } from "./types";

/**
 * One channel as the client holds it: the listeners on it, where it stands, who is present.
 * The socket may come and go; this object survives reconnects and decides, for each
 * Subscribed and Publication frame, what reaches the listeners and in which order.
 */
export class ChannelSubscription {
  readonly channel: string;
  readonly listeners = new Set<SubscribeOptions>();
  /** The id of the Subscribe frame awaiting its reply; undefined when none is in flight. */
  pendingId: number | undefined;
  /** True between a confirmed Subscribe and the socket ending. */
  live = false;
  /** Subscribes the server asked to retry since the last confirmed one: the backoff's attempt. */
  refusals = 0;
  #cursor = new ChannelCursor();
  #recovering = false;
  /** Live publications that arrived before the Subscribed reply: delivered after the recovered ones. */
  #held: PublicationFrame[] = [];
  /** The ids of the events delivered last, oldest first: one published again is not delivered twice. */
  readonly #delivered = new Set<string>();
  readonly #members = new Map<string, PresenceMember>();
  readonly #onError: (error: unknown) => void;
  readonly #resubscribe: (subscription: ChannelSubscription) => void;

  /**
   * `resubscribe` subscribes again from the cursor on the same socket (`subscribing` follows); it
   * is called when a live publication shows that one before it never arrived, or the server says
   * it lost the channel's state.
   */
  constructor(
    channel: string,
    onError: (error: unknown) => void,
    resubscribe: (subscription: ChannelSubscription) => void,
  ) {
    this.channel = channel;
    this.#onError = onError;
    this.#resubscribe = resubscribe;
  }

  get presence(): boolean {
    for (const listener of this.listeners) if (listener.presence) return true;
    return false;
  }

  get members(): PresenceMember[] {
    return [...this.#members.values()];
  }

  /** The `since` of the next Subscribe: present once the channel delivered or confirmed anything. */
  since(): StreamPositionFrame | undefined {
    const position = this.#cursor.position;
    return position && create(StreamPositionSchema, { offset: position.offset, epoch: position.epoch });
  }

  /** A Subscribe frame with this id is on its way. */
  subscribing(id: number): void {
    this.pendingId = id;
    this.live = false;
    this.#recovering = this.#cursor.position !== undefined;
    this.#held = [];
  }

  /** The socket ended: the next socket must subscribe again. */
  dropped(): void {
    this.pendingId = undefined;
    this.live = false;
    this.#held = [];
  }

  confirmed(subscribed: Subscribed): void {
    this.pendingId = undefined;
    this.live = true;
    const recovered = this.#recovering && subscribed.recovered;
    const position = subscribed.position ?? create(StreamPositionSchema);
    // Not recovered, the cursor starts over: at the channel's position, or, when the server lost
    // the channel's history and still holds all of its new epoch, before that epoch's first
    // publication. Those came after the loss: handed on after onSubscribed (the app folds them
    // over its refetch, by version), not taken as covered by a refetch that may not show them yet.
    if (!recovered) this.#cursor = new ChannelCursor(startOf(subscribed.publications, position));
    this.#members.clear();
    for (const member of subscribed.presence) this.#members.set(member.userId, member);
    const info = { channel: this.channel, recovered, presence: this.members };
    for (const listener of this.listeners) this.#guard(() => listener.onSubscribed?.(info));
    for (const publication of subscribed.publications) this.#deliver(publication);
    this.#cursor.settle({ offset: position.offset, epoch: position.epoch });
    const held = this.#held;
    this.#held = [];
    // Through publication(): a gap among them resubscribes, and the rest are held again. One of
    // another epoch than the server's now is from before the channel's history was lost (the
    // confirmation covers it), or from a loss newer still that the next publication reveals; held
    // again, it would resubscribe forever.
    for (const publication of held) if (publication.epoch === position.epoch) this.publication(publication);
  }

  /** A late listener on a channel already live: it has state to load, like a first subscriber. */
  greet(listener: SubscribeOptions): void {
    if (this.live)
      this.#guard(() => listener.onSubscribed?.({ channel: this.channel, recovered: false, presence: this.members }));
  }

  publication(frame: PublicationFrame): void {
    if (this.pendingId !== undefined) this.#held.push(frame);
    else if (this.live) this.#deliver(frame);
  }

  /**
   * The server lost the channel's state (StateLost): what was published after the cursor may
   * never arrive. Read the channel again from the cursor; the app hears `recovered: false` when
   * the gap cannot be filled, as after any loss. A subscribe already on its way is answered from
   * after the loss: nothing more to do.
   */
  stateLost(): void {
    if (this.live && this.pendingId === undefined) this.#resubscribe(this);
  }

  presenceChange(change: PresenceChange): void {
    const member = change.member;
    if (!member) return;
    if (change.joined) this.#members.set(member.userId, member);
    else this.#members.delete(member.userId);
    const event = { channel: this.channel, member, joined: change.joined };
    for (const listener of this.listeners) if (listener.presence) this.#guard(() => listener.onPresence?.(event));
  }

  refused(error: Error): void {
    this.pendingId = undefined;
    this.live = false;
    for (const listener of this.listeners) this.#guard(() => listener.onError?.(error));
    this.listeners.clear();
  }

  #deliver(frame: PublicationFrame): void {
    if (this.#cursor.skips(frame.offset, frame.epoch) || this.#cursor.leaves(frame.epoch)) {
      // Delivering it would skip what came before it, silently. Read the channel again from the
      // last one delivered: the server sends what is missing, or says recovered:false (refetch).
      // A new epoch too: taking it as it came lost, without a word, what was published before it
      // in the new epoch (while this edge's Redis subscription was down) and what the old epoch
      // had not delivered yet when Redis went away. The server answers recovered:false.
      this.#resubscribe(this);
      this.#held.push(frame);
      return;
    }
    if (!this.#cursor.advance(frame.offset, frame.epoch)) return;
    // An event published again under a new position (the sink relays at least once, and after
    // Redis lost the channel it cannot tell what it had published): its position still counts.
    if (!this.#firstDelivery(frame.metadata?.eventId)) return;
    // An event type this build of the contracts does not know: its position still counts.
    const event = frame.event && anyUnpack(frame.event, registry);
    if (!event) return;
    const publication = {
      channel: this.channel,
      offset: frame.offset,
      epoch: frame.epoch,
      event,
      metadata: frame.metadata,
    };
    for (const listener of [...this.listeners]) this.#guard(() => listener.onPublication(publication));
  }

  /** False for an event delivered among the last `rememberedEvents`; remembers it otherwise. */
  #firstDelivery(eventId: string | undefined): boolean {
    if (!eventId) return true;
    if (this.#delivered.has(eventId)) return false;
    this.#delivered.add(eventId);
    if (this.#delivered.size > rememberedEvents) this.#delivered.delete(this.#delivered.values().next().value!);
    return true;
  }

  #guard(run: () => void): void {
    try {
      run();
    } catch (error) {
      this.#onError(error);
    }
  }
}

/**
 * Event ids a subscription remembers: more than a channel's history holds (the server gives
 * `recovered: false` beyond it), so any repeat the server can send is caught.
 */
const rememberedEvents = 1_000;

/** Where a confirmation's publications start: before the first, when they are of the channel's epoch now. */
function startOf(publications: readonly PublicationFrame[], position: StreamPositionFrame): StreamPosition {
  const first = publications[0];
  if (first && first.epoch === position.epoch && first.offset > 0n)
    return { offset: first.offset - 1n, epoch: first.epoch };
  return { offset: position.offset, epoch: position.epoch };
}
