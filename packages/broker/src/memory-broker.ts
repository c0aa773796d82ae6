import { create } from "@bufbuild/protobuf";
import {
  PublicationSchema,
  StreamPositionSchema,
  type PresenceChange,
  type Publication,
  type StreamPosition,
} from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { randomBytes } from "node:crypto";
import {
  streamsRemembered,
  type Broker,
  type BrokerListener,
  type History,
  type UnpositionedPublication,
} from "./broker";

export interface MemoryBrokerOptions {
  /** Publications kept per channel for recovery. */
  readonly historySize?: number;
  /**
   * A channel with no publication for this long forgets its history and position; its next
   * publication starts a new epoch, so clients holding old positions refetch instead of missing.
   */
  readonly historyTtlMs?: number;
}

/** A channel's stream: its epoch, last offset and a ring of the latest publications. */
class ChannelStream {
  readonly epoch = randomBytes(6).toString("base64url");
  offset = 0n;
  touchedAt = Date.now();
  readonly ring: Publication[] = [];
  /** The last version published of each event stream, in two halves as RedisBroker keeps them. */
  #versions = new Map<string, bigint>();
  #olderVersions = new Map<string, bigint>();

  /** False for a stream version published here already; true, and remembered, otherwise. */
  isNew(metadata: UnpositionedPublication["metadata"]): boolean {
    if (!metadata?.streamId) return true;
    const seen = this.#versions.get(metadata.streamId) ?? this.#olderVersions.get(metadata.streamId);
    if (seen !== undefined && seen >= metadata.streamVersion) return false;
    this.#versions.set(metadata.streamId, metadata.streamVersion);
    if (this.#versions.size >= streamsRemembered) {
      this.#olderVersions = this.#versions;
      this.#versions = new Map();
    }
    return true;
  }
}

/**
 * The embedded shape's broker: every edge is in this process, so delivery is a method call.
 * Positions and history live in memory and are lost on restart; a new epoch tells clients so.
 */
export class MemoryBroker implements Broker {
  readonly #historySize: number;
  readonly #historyTtlMs: number;
  readonly #streams = new Map<string, ChannelStream>();
  readonly #listeners = new Map<string, Set<BrokerListener>>();
  readonly #sweep: NodeJS.Timeout;

  constructor(options: MemoryBrokerOptions = {}) {
    this.#historySize = options.historySize ?? 200;
    this.#historyTtlMs = options.historyTtlMs ?? 10 * 60_000;
    this.#sweep = setInterval(() => this.#forgetIdle(), Math.min(this.#historyTtlMs, 60_000));
    this.#sweep.unref();
  }

  async publish(channel: string, publication: UnpositionedPublication): Promise<Publication | undefined> {
    const stream = this.#stream(channel);
    if (!stream.isNew(publication.metadata)) return undefined;
    stream.offset += 1n;
    stream.touchedAt = Date.now();
    const positioned = create(PublicationSchema, { ...publication, offset: stream.offset, epoch: stream.epoch });
    stream.ring.push(positioned);
    if (stream.ring.length > this.#historySize) stream.ring.shift();
    for (const listener of this.#listeners.get(channel) ?? []) listener.publication(channel, positioned);
    return positioned;
  }

  async publishPresence(channel: string, change: PresenceChange): Promise<void> {
    for (const listener of this.#listeners.get(channel) ?? []) listener.presence(channel, change);
  }

  async subscribe(channel: string, listener: BrokerListener): Promise<void> {
    let listeners = this.#listeners.get(channel);
    if (!listeners) this.#listeners.set(channel, (listeners = new Set()));
    listeners.add(listener);
  }

  async unsubscribe(channel: string, listener: BrokerListener): Promise<void> {
    const listeners = this.#listeners.get(channel);
    if (!listeners) return;
    listeners.delete(listener);
    if (listeners.size === 0) this.#listeners.delete(channel);
  }

  async history(channel: string, since?: StreamPosition): Promise<History> {
    const stream = this.#stream(channel);
    const position = create(StreamPositionSchema, { offset: stream.offset, epoch: stream.epoch });
    if (!since) return { position, recovered: false, publications: [] };
    const oldest = stream.ring[0]?.offset ?? stream.offset + 1n;
    // An epoch this channel no longer has: its stream is gone, not the current one's (History).
    if (since.epoch !== stream.epoch)
      return { position, recovered: false, publications: oldest === 1n ? [...stream.ring] : [] };
    const recoverable = since.offset <= stream.offset && since.offset + 1n >= oldest;
    if (!recoverable) return { position, recovered: false, publications: [] };
    return { position, recovered: true, publications: stream.ring.filter((p) => p.offset > since.offset) };
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    this.#listeners.clear();
    this.#streams.clear();
  }

  #stream(channel: string): ChannelStream {
    let stream = this.#streams.get(channel);
    if (!stream) this.#streams.set(channel, (stream = new ChannelStream()));
    return stream;
  }

  #forgetIdle(): void {
    const before = Date.now() - this.#historyTtlMs;
    for (const [channel, stream] of this.#streams) {
      if (stream.touchedAt < before && !this.#listeners.has(channel)) this.#streams.delete(channel);
    }
  }
}
