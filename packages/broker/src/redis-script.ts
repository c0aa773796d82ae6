import { ErrorReply } from "@redis/client";
import { createHash } from "node:crypto";
import type { RedisConnection } from "./redis-connection";

type Argument = string | Buffer;

/**
 * A Lua script run by its SHA1 (EVALSHA), so each call sends only keys and arguments. A Redis that
 * does not know it yet (first use, restart, SCRIPT FLUSH) gets the source once (EVAL caches it).
 */
export class RedisScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash("sha1").update(source).digest("hex");
  }

  async run(client: RedisConnection, keys: readonly string[], args: readonly Argument[]): Promise<unknown> {
    const options = { keys: [...keys], arguments: [...args] as string[] };
    try {
      return await client.evalSha(this.#sha, options);
    } catch (error) {
      if (!(error instanceof ErrorReply) || !error.message.startsWith("NOSCRIPT")) throw error;
      return await client.eval(this.#source, options);
    }
  }
}

/** Lua: the bytes of a Protobuf varint, for numbers below 2^53 (Lua's numbers are doubles). */
export const LUA_VARINT = `
local function varint(n)
  local bytes = {}
  while n >= 128 do
    bytes[#bytes + 1] = string.char(n % 128 + 128)
    n = math.floor(n / 128)
  end
  bytes[#bytes + 1] = string.char(n)
  return table.concat(bytes)
end`;

/** Lua: Redis's clock in milliseconds, the one clock every node agrees on. */
export const LUA_NOW = `
local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end`;
