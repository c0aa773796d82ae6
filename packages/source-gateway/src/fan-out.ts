import { create } from "@bufbuild/protobuf";
import {
  ServerFrameSchema,
  type PresenceChange,
  type Publication,
  type ServerFrame,
  type StreamPosition,
} from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { channelOfOrganization, type Broker, type BrokerListener } from "@sluice/broker";
import type { FrameCodec } from "@sluice/protocol";
import type { Connection } from "./connection";
import type { GatewayMetrics } from "./metrics";

/** Writes an encoded frame to a connection, minding its send buffer. */
export type FrameWriter = (connection: Connection, data: Uint8Array | string) => void;

/**
 * The edge's one broker listener. It subscribes the broker to a channel when the first local
 * connection subscribes and unsubscribes when the last one leaves, and encodes each publication
 * once per subprotocol, not once per socket.
 */
export class FanOut implements BrokerListener {
  readonly #broker: Broker;
  readonly #write: FrameWriter;
  readonly #members = new Map<string, Set<Connection>>();
  /** Broker subscriptions in progress or done, so concurrent first subscribers wait for the same one. */
  readonly #joined = new Map<string, Promise<void>>();
  readonly #metrics: GatewayMetrics;

  constructor(broker: Broker, write: FrameWriter, metrics: GatewayMetrics) {
    this.#broker = broker;
    this.#write = write;
    this.#metrics = metrics;
  }

  async add(scoped: string, connection: Connection): Promise<void> {
    let members = this.#members.get(scoped);
    if (!members) this.#members.set(scoped, (members = new Set()));
    members.add(connection);
    let joined = this.#joined.get(scoped);
    if (!joined) {
      joined = this.#broker.subscribe(scoped, this);
      this.#joined.set(scoped, joined);
      joined.catch(() => this.#joined.delete(scoped));
    }
    await joined;
  }

  async remove(scoped: string, connection: Connection): Promise<void> {
    const members = this.#members.get(scoped);
    if (!members?.delete(connection) || members.size > 0) return;
    this.#members.delete(scoped);
    this.#joined.delete(scoped);
    await this.#broker.unsubscribe(scoped, this);
  }

  get channelCount(): number {
    return this.#members.size;
  }

  publication(scoped: string, publication: Publication): void {
    const members = this.#members.get(scoped);
    if (!members) return;
    const frame = create(ServerFrameSchema, { kind: { case: "publication", value: publication } });
    const encoded = new EncodedFrame(frame);
    let delivered = 0;
    for (const connection of members) {
      const subscription = connection.subscriptions?.get(publication.channel);
      if (!subscription || subscription.scoped !== scoped) continue;
      if (subscription.pending) {
        subscription.pending.push(publication);
        continue;
      }
      this.#write(connection, encoded.for(connection.codec));
      delivered += 1;
    }
    this.#metrics.publicationsDelivered.inc(delivered);
  }

  /**
   * Tells each socket on the channel to read it again from its last position. Members still
   * recovering their subscribe are told after their reply, if it was read before the loss.
   */
  stateLost(scoped: string, position: StreamPosition): void {
    const members = this.#members.get(scoped);
    const [anyMember] = members ?? [];
    if (!members || !anyMember) return;
    // Every member is of the channel's organization: one name, one frame, for all of them.
    const channel = channelOfOrganization(anyMember.session.organizationId, scoped);
    let encoded: EncodedFrame | undefined;
    let told = 0;
    for (const connection of members) {
      const subscription = connection.subscriptions?.get(channel);
      if (!subscription || subscription.scoped !== scoped) continue;
      if (subscription.pending) {
        subscription.lost = position;
        continue;
      }
      encoded ??= new EncodedFrame(stateLostFrame(channel));
      this.#write(connection, encoded.for(connection.codec));
      told += 1;
    }
    this.#metrics.stateLostTold.inc(told);
  }

  presence(scoped: string, change: PresenceChange): void {
    const members = this.#members.get(scoped);
    if (!members) return;
    const encoded = new EncodedFrame(create(ServerFrameSchema, { kind: { case: "presenceChange", value: change } }));
    for (const connection of members) {
      const subscription = connection.subscriptions?.get(change.channel);
      // Only members who asked for presence hear it, and nobody hears about themselves.
      if (!subscription?.presence || subscription.pending || connection.session.userId === change.member?.userId)
        continue;
      this.#write(connection, encoded.for(connection.codec));
    }
  }
}

/** The StateLost frame for a channel, by the client's name of it. */
export function stateLostFrame(channel: string): ServerFrame {
  return create(ServerFrameSchema, {
    kind: {
      case: "stateLost",
      value: { channel, reason: "the server lost the channel's state: subscribe again from your last position" },
    },
  });
}

/** One frame, encoded at most once per subprotocol. */
export class EncodedFrame {
  readonly #frame: ServerFrame;
  readonly #bySubprotocol = new Map<string, Uint8Array | string>();

  constructor(frame: ServerFrame) {
    this.#frame = frame;
  }

  for(codec: FrameCodec): Uint8Array | string {
    let data = this.#bySubprotocol.get(codec.subprotocol);
    if (data === undefined) this.#bySubprotocol.set(codec.subprotocol, (data = codec.encodeServer(this.#frame)));
    return data;
  }
}
