import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  PublicationSchema,
  ServerFrameSchema,
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
import { openRedis, redisFailure, type RedisConnection, type RedisConnectionOptions } from "./redis-connection";
import { LUA_VARINT, RedisScript } from "./redis-script";

export interface RedisBrokerOptions extends RedisConnectionOptions {
  /** Publications kept per channel for recovery. */
  readonly historySize?: number;
  /**
   * A channel with no publication (and no history read) for this long loses its history and
   * position; its next publication starts a new epoch, so old positions refetch instead of missing.
   */
  readonly historyTtlMs?: number;
}

// Both scripts start a channel's stream when its meta hash is missing: never published, expired,
// or lost with a Redis restart. The new epoch comes from the caller (Redis scripts have no good
// randomness) and any stale history goes, so no old position can match the new stream.
const LUA_STREAM = `
local function stream(meta, history, candidate)
  local epoch = redis.call('HGET', meta, 'epoch')
  if epoch then return epoch, tonumber(redis.call('HGET', meta, 'offset')) end
  redis.call('DEL', history)
  redis.call('HSET', meta, 'epoch', candidate, 'offset', 0)
  return candidate, 0
end`;

/**
 * KEYS: meta hash, history stream, stream versions (newer half), stream versions (older half).
 * ARGV: pub/sub channel, the publication's Protobuf without offset and epoch, candidate epoch,
 * history size, TTL ms, the event's stream id ('' for none), its version, the streams the newer
 * half holds at most. Returns { offset, epoch }, or { 0 } for a stream version the channel carried
 * already.
 * Offset and epoch are appended to the encoded publication as fields 2 and 3 (a Protobuf parser
 * keeps the last value of a field), so the message is encoded once, by the publisher.
 *
 * The versions are two hashes: when the newer one is full it becomes the older one (whose streams
 * are forgotten), so at least the last ARGV[8] streams are remembered at a bounded cost. They
 * outlive an epoch on purpose: a version published before is a repeat in any epoch. Why at all:
 * the bus delivers at least once, and a sink that crashed between publishing and committing its
 * offsets, or lost its partitions to another, hands the same events on again; nothing but Redis
 * itself can tell they were published.
 */
const PUBLISH = new RedisScript(`${LUA_VARINT}${LUA_STREAM}
if ARGV[6] ~= '' then
  local seen = redis.call('HGET', KEYS[3], ARGV[6]) or redis.call('HGET', KEYS[4], ARGV[6])
  if seen and tonumber(seen) >= tonumber(ARGV[7]) then return { 0 } end
end
local epoch = stream(KEYS[1], KEYS[2], ARGV[3])
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
local publication = ARGV[2] .. '\\16' .. varint(offset) .. '\\26' .. varint(#epoch) .. epoch
redis.call('XADD', KEYS[2], 'MAXLEN', '=', ARGV[4], string.format('%d-0', offset), 'p', publication)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
if ARGV[6] ~= '' then
  -- HLEN only when a stream was added; the older half keeps the TTL it had as the newer one.
  if redis.call('HSET', KEYS[3], ARGV[6], ARGV[7]) == 1 and redis.call('HLEN', KEYS[3]) >= tonumber(ARGV[8]) then
    redis.call('RENAME', KEYS[3], KEYS[4])
  end
  redis.call('PEXPIRE', KEYS[3], ARGV[5])
end
-- A ServerFrame whose field 3 is the publication: one Protobuf type for publications and presence.
redis.call('PUBLISH', ARGV[1], '\\26' .. varint(#publication) .. publication)
return { offset, epoch }`);

/**
 * KEYS: meta hash, history stream. ARGV: candidate epoch, TTL ms, since offset ('' for none),
 * since epoch. Returns { offset, epoch, recovered (0/1), publications... }: the publications after
 * since when recovered; for a since of another epoch (lost), the current epoch's, if none was
 * trimmed (History says why).
 */
const HISTORY = new RedisScript(`${LUA_STREAM}
local epoch, offset = stream(KEYS[1], KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
if ARGV[3] == '' then return { offset, epoch, 0 } end
local function oldest()
  local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
  if first then return tonumber(string.match(first[1], '^(%d+)')) end
  return offset + 1
end
local function from(reply, start)
  for _, entry in ipairs(redis.call('XRANGE', KEYS[2], string.format('%d-0', start), '+')) do
    reply[#reply + 1] = entry[2][2]
  end
  return reply
end
if ARGV[4] ~= epoch then
  if oldest() == 1 then return from({ offset, epoch, 0 }, 1) end
  return { offset, epoch, 0 }
end
local since = tonumber(ARGV[3])
if since > offset then return { offset, epoch, 0 } end
if since == offset then return { offset, epoch, 1 } end
if since + 1 < oldest() then return { offset, epoch, 0 } end
return from({ offset, epoch, 1 }, since + 1)`);

/** One channel's listeners on this edge and the state of its Redis subscription. */
class ChannelListeners {
  readonly listeners = new Set<BrokerListener>();
  subscribed = false;
  /** SUBSCRIBE and UNSUBSCRIBE for this channel, one after another. */
  queue: Promise<void> = Promise.resolve();
  /**
   * The last publication handed to the listeners, or the channel's position when this edge
   * subscribed: the next one must follow it, and after a reconnect the edge reads history from it
   * (which is how it finds the channel's state lost even when nothing more is published there).
   */
  last: StreamPosition | undefined;
  /** Set while a gap is being filled from history: live publications wait here meanwhile. */
  held: Publication[] | undefined;
  /** A reconnect came while a gap was being filled: fill again from `last` once it is done. */
  refill = false;
  constructor(readonly deliver: (message: Buffer) => void) {}
}

/**
 * The scale-out shape's broker: positions and bounded history in Redis, written by one Lua
 * script that also PUBLISHes, and delivery through Redis pub/sub. Each instance is an edge that
 * SUBSCRIBEs only to the channels its own listeners asked for.
 *
 * Pub/sub is at most once: a message Redis sent while this edge's subscriber connection was down
 * is lost to it. So each channel remembers the last offset it delivered, and a publication that
 * skips ahead (or a reconnect) makes the edge fetch the gap from history first, in order.
 */
export class RedisBroker implements Broker {
  readonly #commands: RedisConnection;
  readonly #subscriber: RedisConnection;
  readonly #prefix: string;
  readonly #historySize: string;
  readonly #historyTtlMs: string;
  readonly #onError: (error: unknown) => void;
  readonly #channels = new Map<string, ChannelListeners>();
  #closed = false;

  private constructor(
    commands: RedisConnection,
    subscriber: RedisConnection,
    options: RedisBrokerOptions,
    onError: (error: unknown) => void,
  ) {
    this.#commands = commands;
    this.#subscriber = subscriber;
    this.#prefix = options.keyPrefix ?? "sluice:";
    this.#historySize = String(options.historySize ?? 200);
    this.#historyTtlMs = String(options.historyTtlMs ?? 10 * 60_000);
    this.#onError = onError;
    // openRedis waited for the first "ready": every later one is a reconnect, after which the
    // client has resubscribed the channels on its own. The gap is read through the commands
    // connection, which may come back later than the subscriber (each has its own backoff): its
    // reconnect fills again what the subscriber's could not, rather than leaving the gap until
    // the channel's next publication, which may never come.
    subscriber.on("ready", () => this.#recoverAll());
    commands.on("ready", () => {
      if (subscriber.isReady) this.#recoverAll();
    });
  }

  /** Opens the two connections an edge needs: commands, and a subscriber for pub/sub. */
  static async connect(options: RedisBrokerOptions = {}): Promise<RedisBroker> {
    positiveInteger("historySize", options.historySize);
    positiveInteger("historyTtlMs", options.historyTtlMs);
    positiveInteger("commandTimeoutMs", options.commandTimeoutMs);
    const onError = options.onError ?? ((error: unknown) => console.error(error));
    const withErrors = { ...options, onError };
    const commands = await openRedis(withErrors, "broker commands");
    try {
      const subscriber = await openRedis(withErrors, "broker subscriber");
      return new RedisBroker(commands, subscriber, options, onError);
    } catch (error) {
      commands.destroy();
      throw error;
    }
  }

  async publish(channel: string, publication: UnpositionedPublication): Promise<Publication | undefined> {
    checkChannel(channel);
    const unpositioned = toBinary(
      PublicationSchema,
      create(PublicationSchema, { ...publication, offset: 0n, epoch: "" }),
    );
    const [meta, history, versions, olderVersions] = this.#keys(channel);
    const stream = publication.metadata?.streamId ?? "";
    let reply;
    try {
      reply = (await PUBLISH.run(
        this.#commands,
        [meta, history, versions, olderVersions],
        [
          this.#topic(channel),
          asBuffer(unpositioned),
          newEpoch(),
          this.#historySize,
          this.#historyTtlMs,
          stream,
          String(publication.metadata?.streamVersion ?? 0n),
          String(streamsRemembered),
        ],
      )) as [number, Buffer] | [0];
    } catch (error) {
      throw redisFailure(`publish to ${channel}`, error);
    }
    if (reply.length === 1) return undefined;
    return create(PublicationSchema, { ...publication, offset: BigInt(reply[0]), epoch: reply[1].toString() });
  }

  async publishPresence(channel: string, change: PresenceChange): Promise<void> {
    checkChannel(channel);
    const frame = create(ServerFrameSchema, { kind: { case: "presenceChange", value: change } });
    try {
      await this.#commands.publish(this.#topic(channel), asBuffer(toBinary(ServerFrameSchema, frame)));
    } catch (error) {
      throw redisFailure(`publish presence to ${channel}`, error);
    }
  }

  async subscribe(channel: string, listener: BrokerListener): Promise<void> {
    checkChannel(channel);
    if (this.#closed) throw new Error("the broker is closed");
    let state = this.#channels.get(channel);
    if (!state) {
      const created = new ChannelListeners((message) => this.#receive(channel, created, message));
      this.#channels.set(channel, (state = created));
    }
    state.listeners.add(listener);
    try {
      await this.#reconcile(channel, state);
    } catch (error) {
      state.listeners.delete(listener);
      void this.#reconcile(channel, state).catch(() => {});
      throw redisFailure(`subscribe to ${channel}`, error);
    }
  }

  /**
   * The listener gets nothing more at once. Should Redis refuse the UNSUBSCRIBE, the next message
   * on the channel retries it; the caller is not failed for what it no longer receives.
   */
  async unsubscribe(channel: string, listener: BrokerListener): Promise<void> {
    const state = this.#channels.get(channel);
    if (!state?.listeners.delete(listener)) return;
    await this.#reconcile(channel, state).catch((error: unknown) =>
      this.#onError(redisFailure(`unsubscribe from ${channel}`, error)),
    );
  }

  async history(channel: string, since?: StreamPosition): Promise<History> {
    checkChannel(channel);
    const [meta, history] = this.#keys(channel);
    let reply;
    try {
      reply = (await HISTORY.run(
        this.#commands,
        [meta, history],
        [newEpoch(), this.#historyTtlMs, since ? since.offset.toString() : "", since?.epoch ?? ""],
      )) as [number, Buffer, number, ...Buffer[]];
    } catch (error) {
      throw redisFailure(`history of ${channel}`, error);
    }
    const [offset, epoch, recovered, ...encoded] = reply;
    return {
      position: create(StreamPositionSchema, { offset: BigInt(offset), epoch: epoch.toString() }),
      recovered: recovered === 1,
      publications: encoded.map((bytes) => fromBinary(PublicationSchema, bytes)),
    };
  }

  /** The channels this edge is subscribed to in Redis (for tests and metrics). */
  get channelCount(): number {
    let count = 0;
    for (const state of this.#channels.values()) if (state.subscribed) count++;
    return count;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#channels.clear();
    await Promise.allSettled([this.#commands.close(), this.#subscriber.close()]);
  }

  #keys(channel: string): [meta: string, history: string, versions: string, olderVersions: string] {
    // The hash tag keeps a channel's keys in one slot, should the keys ever move to a Redis Cluster.
    const tag = `${this.#prefix}broker:{${channel}}`;
    return [`${tag}:meta`, `${tag}:history`, `${tag}:versions`, `${tag}:versions-older`];
  }

  #topic(channel: string): string {
    return `${this.#prefix}broker:${channel}`;
  }

  /** Brings the Redis subscription in line with whether the channel has listeners now. */
  #reconcile(channel: string, state: ChannelListeners): Promise<void> {
    const step = state.queue.then(async () => {
      const wanted = state.listeners.size > 0 && !this.#closed;
      if (wanted && !state.subscribed) {
        await this.#subscriber.subscribe(this.#topic(channel), state.deliver, true);
        state.subscribed = true;
        // Read after SUBSCRIBE: a publication older than it was published before this edge
        // listened, and the listeners' own history reads (made after subscribe resolves) cover it.
        const { position } = await this.history(channel);
        state.last ??= position;
      } else if (!wanted && state.subscribed) {
        await this.#subscriber.unsubscribe(this.#topic(channel), state.deliver, true);
        state.subscribed = false;
        state.last = undefined;
      }
      if (state.listeners.size === 0 && !state.subscribed && this.#channels.get(channel) === state) {
        this.#channels.delete(channel);
      }
    });
    state.queue = step.catch(() => {});
    return step;
  }

  #receive(channel: string, state: ChannelListeners, message: Buffer): void {
    if (state.listeners.size === 0) {
      // An UNSUBSCRIBE failed earlier: try again now that the channel costs traffic.
      void this.#reconcile(channel, state).catch(() => {});
      return;
    }
    let frame;
    try {
      frame = fromBinary(ServerFrameSchema, message);
    } catch (error) {
      return this.#onError(new Error(`undecodable message on ${channel}`, { cause: error }));
    }
    if (frame.kind.case === "presenceChange") {
      const change = frame.kind.value;
      this.#each(state, (listener) => listener.presence(channel, change));
    } else if (frame.kind.case === "publication") {
      this.#arrived(channel, state, frame.kind.value);
    }
  }

  #arrived(channel: string, state: ChannelListeners, publication: Publication): void {
    if (state.held) {
      state.held.push(publication);
      return;
    }
    const last = state.last;
    if (last && last.epoch === publication.epoch) {
      if (publication.offset <= last.offset) return;
      if (publication.offset > last.offset + 1n) {
        state.held = [publication];
        void this.#fillGap(channel, state, last);
        return;
      }
    }
    this.#deliver(channel, state, publication);
  }

  /**
   * Delivers what history holds after `last`, then what arrived meanwhile, without repeats. When
   * history cannot fill the gap (`last`'s epoch is gone with a Redis restarted empty, or trimmed
   * away), the listeners are told the state was lost first, even if nothing more is published on
   * the channel, and the edge goes on from the channel's position, so that loss is told once. What
   * history holds of a new epoch (all of it, or none) is still delivered: a client that does not
   * know of state losses learns of this one from a publication of another epoch.
   */
  async #fillGap(channel: string, state: ChannelListeners, last: StreamPosition): Promise<void> {
    let missed: readonly Publication[] = [];
    let lost: StreamPosition | undefined;
    try {
      const history = await this.history(channel, last);
      missed = history.publications;
      if (!history.recovered) {
        lost = history.position;
        this.#onError(new Error(`${channel}: publications after offset ${last.offset} are no longer in history`));
      }
    } catch (error) {
      this.#onError(error);
    }
    const held = state.held ?? [];
    state.held = undefined;
    const deliver = (publication: Publication) => {
      const current = state.last;
      if (current && current.epoch === publication.epoch && publication.offset <= current.offset) return;
      this.#deliver(channel, state, publication);
    };
    if (lost) {
      const position = lost;
      this.#each(state, (listener) => listener.stateLost(channel, position));
    }
    missed.forEach(deliver);
    if (lost) state.last = lost;
    held.forEach(deliver);
    if (state.refill) {
      state.refill = false;
      if (state.last && state.listeners.size > 0 && !this.#closed) {
        state.held = [];
        void this.#fillGap(channel, state, state.last);
      }
    }
  }

  /** After the subscriber reconnected: what was published while it was away comes from history. */
  #recoverAll(): void {
    for (const [channel, state] of this.#channels) {
      if (!state.last) continue;
      if (state.held) {
        state.refill = true;
        continue;
      }
      state.held = [];
      void this.#fillGap(channel, state, state.last);
    }
  }

  #deliver(channel: string, state: ChannelListeners, publication: Publication): void {
    state.last = create(StreamPositionSchema, { offset: publication.offset, epoch: publication.epoch });
    this.#each(state, (listener) => listener.publication(channel, publication));
  }

  #each(state: ChannelListeners, call: (listener: BrokerListener) => void): void {
    for (const listener of state.listeners) {
      try {
        call(listener);
      } catch (error) {
        this.#onError(error);
      }
    }
  }
}

// Epoch candidates: a random seed per process and a counter, unique without drawing random bytes
// for every publication (a candidate is only kept when a channel's stream starts).
const epochSeed = randomBytes(6).toString("base64url");
let epochCount = 0;
function newEpoch(): string {
  return `${epochSeed}${(epochCount++).toString(36)}`;
}

/** The same bytes as a Buffer, without a copy. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkChannel(channel: string): void {
  if (typeof channel !== "string" || channel.length === 0) {
    throw new TypeError(`a channel is a non-empty string, not ${JSON.stringify(channel)}`);
  }
}

function positiveInteger(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
    throw new RangeError(`${name} must be a positive integer, not ${value}`);
  }
}
