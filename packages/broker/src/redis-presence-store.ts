import { create } from "@bufbuild/protobuf";
import { PresenceMemberSchema, type PresenceMember } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import type { PresenceEntry, PresenceStore, PresenceUpdate } from "./presence-store";
import { openRedis, redisFailure, type RedisConnection, type RedisConnectionOptions } from "./redis-connection";
import { LUA_NOW, RedisScript } from "./redis-script";

export interface RedisPresenceStoreOptions extends RedisConnectionOptions {
  /**
   * A connection's entry lives this long unless its node refreshes it: the entries of a node that
   * died without cleaning up vanish after at most this long.
   */
  readonly entryTtlMs?: number;
  /** How often this node refreshes its own entries; a third of the TTL by default. */
  readonly refreshIntervalMs?: number;
  /**
   * Called once, on whichever node notices first, for each user whose last connection on a
   * channel expired (its node died): the moment to tell the channel the user left. Nodes notice
   * on their next refresh or presence call on that channel.
   */
  readonly onExpired?: (channel: string, member: PresenceMember) => void;
}

// Per channel, four keys in one hash-tagged slot:
//   KEYS[1] connections: hash clientId -> userId
//   KEYS[2] expiries:    zset clientId scored by expiry time (Redis clock, ms)
//   KEYS[3] counts:      hash userId -> connections of that user, across nodes
//   KEYS[4] names:       hash userId -> display name
// Every script first drops expired connections, so a dead node's users leave for every reader.
const LUA_PRESENCE = `${LUA_NOW}
local function release(userId)
  local count = redis.call('HINCRBY', KEYS[3], userId, -1)
  if count <= 0 then
    redis.call('HDEL', KEYS[3], userId)
    redis.call('HDEL', KEYS[4], userId)
  end
  return count
end
local expired = {}
local function purge(now)
  for _, clientId in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
    local userId = redis.call('HGET', KEYS[1], clientId)
    redis.call('HDEL', KEYS[1], clientId)
    redis.call('ZREM', KEYS[2], clientId)
    if userId then
      local displayName = redis.call('HGET', KEYS[4], userId) or ''
      if release(userId) <= 0 then expired[#expired + 1] = { userId, displayName } end
    end
  end
end
-- The users whose last connection expired in this call and who did not come back in it, flat.
local function left_by_expiry()
  local reply = {}
  for _, user in ipairs(expired) do
    if redis.call('HEXISTS', KEYS[3], user[1]) == 0 then
      reply[#reply + 1] = user[1]
      reply[#reply + 1] = user[2]
    end
  end
  return reply
end
-- Returns the user's connection count after the add, and whether the connection is new.
local function upsert(now, ttl, clientId, userId, displayName)
  redis.call('ZADD', KEYS[2], now + ttl, clientId)
  local present = redis.call('HGET', KEYS[1], clientId)
  if present then return tonumber(redis.call('HGET', KEYS[3], present)) or 0, false end
  redis.call('HSET', KEYS[1], clientId, userId)
  redis.call('HSETNX', KEYS[4], userId, displayName)
  return redis.call('HINCRBY', KEYS[3], userId, 1), true
end
-- The keys outlive their longest entry by nothing: a silent channel leaves no keys behind.
local function keep(ttl)
  for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ttl) end
end`;

// Each script replies { its answer, the users who left by expiry (userId, displayName, ...) }.

/** ARGV: ttl, clientId, userId, displayName. Answers { userId, displayName, connections, joined }. */
const ADD = new RedisScript(`${LUA_PRESENCE}
local now, ttl = now_ms(), tonumber(ARGV[1])
purge(now)
local connections, new = upsert(now, ttl, ARGV[2], ARGV[3], ARGV[4])
keep(ttl)
local userId = redis.call('HGET', KEYS[1], ARGV[2])
local joined = (new and connections == 1) and 1 or 0
return { { userId, redis.call('HGET', KEYS[4], userId) or '', connections, joined }, left_by_expiry() }`);

/** ARGV: clientId. Answers {} when absent, else { userId, displayName, connections, left }. */
const REMOVE = new RedisScript(`${LUA_PRESENCE}
purge(now_ms())
local userId = redis.call('HGET', KEYS[1], ARGV[1])
if not userId then return { {}, left_by_expiry() } end
local displayName = redis.call('HGET', KEYS[4], userId) or ''
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
local connections = release(userId)
return { { userId, displayName, math.max(connections, 0), connections <= 0 and 1 or 0 }, left_by_expiry() }`);

/** Answers a flat list: userId, displayName, connections, ... */
const MEMBERS = new RedisScript(`${LUA_PRESENCE}
purge(now_ms())
local reply = {}
local counts = redis.call('HGETALL', KEYS[3])
for i = 1, #counts, 2 do
  reply[#reply + 1] = counts[i]
  reply[#reply + 1] = redis.call('HGET', KEYS[4], counts[i]) or ''
  reply[#reply + 1] = tonumber(counts[i + 1])
end
return { reply, left_by_expiry() }`);

/**
 * ARGV: ttl, then clientId, userId, displayName for each of this node's connections. Pushes their
 * expiry forward; puts back any that vanished (Redis restarted, or this node stalled past the TTL).
 */
const REFRESH = new RedisScript(`${LUA_PRESENCE}
local now, ttl = now_ms(), tonumber(ARGV[1])
purge(now)
for i = 2, #ARGV, 3 do upsert(now, ttl, ARGV[i], ARGV[i + 1], ARGV[i + 2]) end
keep(ttl)
return { {}, left_by_expiry() }`);

/**
 * The scale-out shape's presence: every node's connections in Redis, each with an expiry that its
 * node keeps pushing forward. Join and leave are counted per user across tabs and nodes.
 * A connection is added and removed by the node that holds it (its refresh would put back an
 * entry another node removed).
 */
export class RedisPresenceStore implements PresenceStore {
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #ttlMs: string;
  readonly #onError: (error: unknown) => void;
  readonly #onExpired: ((channel: string, member: PresenceMember) => void) | undefined;
  /** This node's own entries, refreshed on a timer: channel -> clientId -> entry. */
  readonly #own = new Map<string, Map<string, PresenceEntry>>();
  readonly #refresh: NodeJS.Timeout;
  #closed = false;

  private constructor(redis: RedisConnection, options: RedisPresenceStoreOptions, onError: (error: unknown) => void) {
    this.#redis = redis;
    this.#prefix = options.keyPrefix ?? "sluice:";
    const ttlMs = options.entryTtlMs ?? 30_000;
    this.#ttlMs = String(ttlMs);
    this.#onError = onError;
    this.#onExpired = options.onExpired;
    this.#refresh = setInterval(() => void this.refresh(), options.refreshIntervalMs ?? Math.ceil(ttlMs / 3));
    this.#refresh.unref();
  }

  static async connect(options: RedisPresenceStoreOptions = {}): Promise<RedisPresenceStore> {
    for (const name of ["entryTtlMs", "refreshIntervalMs", "commandTimeoutMs"] as const) {
      const value = options[name];
      if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
        throw new RangeError(`${name} must be a positive integer, not ${value}`);
      }
    }
    const ttl = options.entryTtlMs ?? 30_000;
    if ((options.refreshIntervalMs ?? 0) >= ttl) {
      throw new RangeError(`refreshIntervalMs (${options.refreshIntervalMs}) must be shorter than entryTtlMs (${ttl})`);
    }
    const onError = options.onError ?? ((error: unknown) => console.error(error));
    const redis = await openRedis({ ...options, onError }, "presence");
    return new RedisPresenceStore(redis, options, onError);
  }

  async add(channel: string, entry: PresenceEntry): Promise<PresenceUpdate> {
    checkEntry(channel, entry);
    let own = this.#own.get(channel);
    if (!own) this.#own.set(channel, (own = new Map()));
    own.set(entry.clientId, entry);
    let reply;
    try {
      reply = await this.#run(ADD, channel, [this.#ttlMs, entry.clientId, entry.userId, entry.displayName]);
    } catch (error) {
      throw redisFailure(`presence add on ${channel}`, error);
    }
    return update(reply);
  }

  async remove(channel: string, clientId: string): Promise<PresenceUpdate | undefined> {
    const own = this.#own.get(channel);
    own?.delete(clientId);
    if (own?.size === 0) this.#own.delete(channel);
    let reply;
    try {
      reply = await this.#run(REMOVE, channel, [clientId]);
    } catch (error) {
      throw redisFailure(`presence remove on ${channel}`, error);
    }
    return reply.length === 0 ? undefined : update(reply);
  }

  async members(channel: string): Promise<PresenceMember[]> {
    let reply;
    try {
      reply = await this.#run(MEMBERS, channel, []);
    } catch (error) {
      throw redisFailure(`presence members of ${channel}`, error);
    }
    const members: PresenceMember[] = [];
    for (let i = 0; i < reply.length; i += 3) members.push(update(reply.slice(i, i + 3)).member);
    return members;
  }

  /**
   * Pushes this node's entries' expiry forward (the timer calls it every refreshIntervalMs).
   * A failure is reported, not thrown: the next round tries again, well before the TTL runs out.
   */
  async refresh(): Promise<void> {
    if (this.#closed) return;
    const rounds = [...this.#own].map(async ([channel, entries]) => {
      const args = [this.#ttlMs];
      for (const entry of entries.values()) args.push(entry.clientId, entry.userId, entry.displayName);
      try {
        await this.#run(REFRESH, channel, args);
      } catch (error) {
        this.#onError(redisFailure(`presence refresh on ${channel}`, error));
      }
    });
    await Promise.all(rounds);
  }

  /**
   * Stops refreshing and closes the connection. Entries are left to expire: the gateway removes
   * its connections' entries as it drains them; what it could not remove vanishes with the TTL.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#refresh);
    this.#own.clear();
    await this.#redis.close().catch(() => {});
  }

  /** Runs a script on the channel's keys; tells onExpired who left by expiry; gives the answer. */
  async #run(script: RedisScript, channel: string, args: string[]): Promise<Array<Buffer | number>> {
    const tag = `${this.#prefix}presence:{${channel}}`;
    const keys = [`${tag}:connections`, `${tag}:expiries`, `${tag}:counts`, `${tag}:names`];
    const [answer, expired] = (await script.run(this.#redis, keys, args)) as [Array<Buffer | number>, Buffer[]];
    for (let i = 0; i < expired.length; i += 2) {
      const member = update([expired[i]!, expired[i + 1]!, 0]).member;
      try {
        this.#onExpired?.(channel, member);
      } catch (error) {
        this.#onError(error);
      }
    }
    return answer;
  }
}

/** userId, displayName, connections[, changed] -> an update. */
function update(reply: Array<Buffer | number>): PresenceUpdate {
  const [userId, displayName, connections, changed] = reply;
  return {
    member: create(PresenceMemberSchema, {
      userId: String(userId),
      displayName: String(displayName),
      connections: Number(connections),
    }),
    changed: changed === 1,
  };
}

function checkEntry(channel: string, entry: PresenceEntry): void {
  if (typeof channel !== "string" || channel.length === 0) {
    throw new TypeError(`a channel is a non-empty string, not ${JSON.stringify(channel)}`);
  }
  for (const field of ["clientId", "userId"] as const) {
    if (typeof entry[field] !== "string" || entry[field].length === 0) {
      throw new TypeError(`a presence entry's ${field} is a non-empty string`);
    }
  }
}
