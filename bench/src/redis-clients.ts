// ioredis or node-redis (`redis`)? The two things the broker asks of a client, on loopback:
//  1. publish: a Lua script (EVALSHA) that bumps a counter, appends to a capped stream and PUBLISHes
//     a 100-byte binary payload, many in flight at once (the client pipelines them);
//  2. receive: binary pub/sub messages on a subscriber connection, as fast as Redis sends them.
// For each: operations per second and the client process's CPU (user + system) per operation,
// which on a shared 2-core machine matters as much as the rate. docs/decisions/0010-redis-client.md.
//
//   npm run redis-clients -w @sluice/bench [-- --messages 50000 --in-flight 100 --rounds 3]
import { Redis } from "ioredis";
import { createClient, RESP_TYPES } from "redis";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    messages: { type: "string", default: "50000" },
    "in-flight": { type: "string", default: "100" },
    rounds: { type: "string", default: "3" },
    url: { type: "string", default: "redis://127.0.0.1:6379" },
  },
});
const messages = Number(args.messages);
const inFlight = Number(args["in-flight"]);
const rounds = Number(args.rounds);
const prefix = `bench:clients:${randomBytes(4).toString("hex")}:`;
const payload = randomBytes(100);

const SCRIPT = `
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '=', 200, offset .. '-1', 'p', ARGV[1])
redis.call('PUBLISH', KEYS[3], ARGV[1])
return offset`;

/** What the measurement needs of a client, so both run the same loop. */
interface Client {
  load(script: string): Promise<string>;
  evalsha(sha: string, keys: string[], argv: Buffer[]): Promise<unknown>;
  publish(channel: string, message: Buffer): Promise<unknown>;
  subscribe(channel: string, onMessage: () => void): Promise<void>;
  del(keys: string[]): Promise<unknown>;
  close(): Promise<void>;
}

async function ioredis(): Promise<Client> {
  const commands = new Redis(args.url, { lazyConnect: true });
  const subscriber = new Redis(args.url, { lazyConnect: true });
  await Promise.all([commands.connect(), subscriber.connect()]);
  return {
    load: async (script) => (await commands.script("LOAD", script)) as string,
    evalsha: (sha, keys, argv) => commands.evalsha(sha, keys.length, ...keys, ...argv),
    publish: (channel, message) => commands.publish(channel, message),
    subscribe: async (channel, onMessage) => {
      subscriber.on("messageBuffer", onMessage);
      await subscriber.subscribe(channel);
    },
    del: (keys) => commands.del(...keys),
    close: async () => {
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}

async function nodeRedis(): Promise<Client> {
  const commands = createClient({ url: args.url }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  const subscriber = createClient({ url: args.url });
  await Promise.all([commands.connect(), subscriber.connect()]);
  return {
    load: async (script) => (await commands.scriptLoad(script)).toString(),
    evalsha: (sha, keys, argv) => commands.evalSha(sha, { keys, arguments: argv as unknown as string[] }),
    publish: (channel, message) => commands.publish(channel, message),
    subscribe: (channel, onMessage) => subscriber.subscribe(channel, onMessage, true),
    del: (keys) => commands.del(keys),
    close: async () => {
      commands.destroy();
      subscriber.destroy();
    },
  };
}

interface Measure {
  perSecond: number;
  cpuMicrosPerOp: number;
}

async function timed(run: () => Promise<void>, count: number): Promise<Measure> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await run();
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { perSecond: Math.round(count / seconds), cpuMicrosPerOp: +((used.user + used.system) / count).toFixed(2) };
}

/** Keeps `inFlight` calls outstanding until `count` have completed. */
async function closedLoop(count: number, call: () => Promise<unknown>): Promise<void> {
  let started = 0;
  const lane = async () => {
    while (started < count) {
      started++;
      await call();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

async function measure(name: string, open: () => Promise<Client>) {
  const client = await open();
  const keys = [`${prefix}${name}:meta`, `${prefix}${name}:history`, `${prefix}${name}:channel`];
  const sha = await client.load(SCRIPT);
  const publish = await timed(() => closedLoop(messages, () => client.evalsha(sha, keys, [payload])), messages);

  let received = 0;
  let allReceived!: () => void;
  const done = new Promise<void>((resolve) => (allReceived = resolve));
  await client.subscribe(keys[2]!, () => {
    if (++received === messages) allReceived();
  });
  // The publishing side runs in this process too; its CPU is measured apart and subtracted.
  const publishOnly = await timed(
    () => closedLoop(messages, () => client.publish(`${keys[2]}:nobody`, payload)),
    messages,
  );
  const both = await timed(async () => {
    await closedLoop(messages, () => client.publish(keys[2]!, payload));
    await done;
  }, messages);
  const receive = {
    perSecond: both.perSecond,
    cpuMicrosPerOp: +(both.cpuMicrosPerOp - publishOnly.cpuMicrosPerOp).toFixed(2),
  };
  await client.del(keys);
  await client.close();
  return { client: name, publish, receive };
}

const results = [];
for (let round = 1; round <= rounds; round++) {
  for (const [name, open] of [
    ["ioredis", ioredis],
    ["redis", nodeRedis],
  ] as const) {
    const result = await measure(name, open);
    console.error(`round ${round} ${JSON.stringify(result)}`);
    results.push({ round, ...result });
  }
}
const load = loadavg().map((l) => +l.toFixed(2));
console.error(`load average ${load.join(" ")}`);
mkdirSync(new URL("../results", import.meta.url), { recursive: true });
const file = new URL("../results/redis-clients.json", import.meta.url);
writeFileSync(
  file,
  JSON.stringify({ at: new Date().toISOString(), messages, inFlight, load, results }, null, 2) + "\n",
);
console.log("results written to bench/results/redis-clients.json");
