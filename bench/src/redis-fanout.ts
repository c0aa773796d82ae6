// Sink fan-out through Redis: a publisher (as the sink gateway) publishes through RedisBroker at
// fixed rates (open loop) on a set of channels; two edges (RedisBroker instances in their own
// processes, as two source gateways) hold `--listeners` listeners each, one channel apiece, round
// robin. Per rate: deliveries/s, each edge's CPU per delivery (process.cpuUsage) and deliveries per
// core-second, the publisher's and Redis's CPU per publication (Redis from INFO cpu), and
// publish -> listener latency percentiles (wall clock, the same machine's, across processes).
//
//   npm run redis-fanout -w @sluice/bench [-- --rates 1000,5000 --channels 100 --listeners 100 --seconds 8 --disjoint]
//
// --disjoint: edge 0 listens to the even channels, edge 1 to the odd ones; each edge should then
// receive from Redis only the messages of its own channels (messagesPerEdge).
//
// Redis at --url (127.0.0.1:6379; bash scripts/services.sh starts it). Keys under a random prefix,
// deleted at the end. Bounded: each rate runs 2 s of warm-up plus --seconds, then 1 s to drain.
import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { RedisBroker, type BrokerListener } from "@sluice/broker";
import { OrderCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { PublicationSchema, type Publication } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createClient } from "redis";
import { percentiles } from "./percentiles";

const { values: args } = parseArgs({
  options: {
    role: { type: "string", default: "publisher" },
    rates: { type: "string", default: "1000,5000" },
    channels: { type: "string", default: "100" },
    listeners: { type: "string", default: "100" },
    seconds: { type: "string", default: "8" },
    url: { type: "string", default: "redis://127.0.0.1:6379" },
    prefix: { type: "string", default: `bench:fanout:${randomBytes(4).toString("hex")}:` },
    // Each edge listens to half the channels (even / odd) instead of all of them.
    disjoint: { type: "boolean", default: false },
    "edge-index": { type: "string", default: "0" },
  },
});
const channelCount = Number(args.channels);
const listenerCount = Number(args.listeners);
const channelName = (i: number) => `bench/project:${i % channelCount}`;
/** The channels an edge listens to: all, or with --disjoint those of its parity. */
const edgeChannels = (edgeIndex: number) =>
  Array.from({ length: channelCount }, (_, c) => c).filter((c) => !args.disjoint || c % 2 === edgeIndex);
const wallMs = () => performance.timeOrigin + performance.now();

/** What an edge reports for one measured window. */
interface EdgeResult {
  /** Messages this edge received from Redis (each reaches every listener of its channel). */
  messages: number;
  deliveries: number;
  cpuMicros: number;
  latencies: number[];
}

/** Deliveries count when their publication was sent from `from` until `until` (wall clock, ms). */
type ToEdge =
  { type: "measure"; from: number } | { type: "until"; until: number } | { type: "stop" } | { type: "exit" };
type FromEdge = { type: "ready" } | ({ type: "result" } & EdgeResult);

if (args.role === "edge") await runEdge();
else await runPublisher();

async function runEdge(): Promise<void> {
  const send = (message: FromEdge) => process.send?.(message);
  const broker = await RedisBroker.connect({ url: args.url, keyPrefix: args.prefix });
  const sampleSize = 100_000;
  let from = Infinity;
  let until = Infinity;
  let deliveries = 0;
  let messages = 0;
  let latencies: number[] = [];
  let cpu = process.cpuUsage();
  // The send time travels in the publication; all listeners of one channel share the object.
  const sentAt = new WeakMap<Publication, number>();
  const counted = new WeakSet<Publication>();
  const listener: BrokerListener = {
    publication(_channel, publication) {
      let sent = sentAt.get(publication);
      if (sent === undefined) sentAt.set(publication, (sent = Number(publication.metadata?.eventId)));
      if (sent < from || sent >= until) return;
      if (!counted.has(publication)) {
        counted.add(publication);
        messages++;
      }
      const latency = wallMs() - sent;
      deliveries++;
      // Reservoir sample: every delivery has the same chance to be in the percentiles.
      if (latencies.length < sampleSize) latencies.push(latency);
      else {
        const slot = Math.floor(Math.random() * deliveries);
        if (slot < sampleSize) latencies[slot] = latency;
      }
    },
    presence() {},
    stateLost() {},
  };
  const channels = edgeChannels(Number(args["edge-index"]));
  for (let i = 0; i < listenerCount; i++) {
    // Distinct listener objects, as distinct sockets' subscriptions would be.
    await broker.subscribe(channelName(channels[i % channels.length]!), { ...listener });
  }
  process.on("message", (message: ToEdge) => {
    if (message.type === "measure") {
      from = message.from;
      until = Infinity;
      deliveries = 0;
      messages = 0;
      latencies = [];
      cpu = process.cpuUsage();
    } else if (message.type === "until") {
      until = message.until;
    } else if (message.type === "stop") {
      from = Infinity;
      const used = process.cpuUsage(cpu);
      send({ type: "result", messages, deliveries, cpuMicros: used.user + used.system, latencies });
    } else {
      void broker.close().then(() => process.exit(0));
    }
  });
  send({ type: "ready" });
}

async function runPublisher(): Promise<void> {
  const rates = args.rates.split(",").map(Number);
  const seconds = Number(args.seconds);
  const redis = createClient({ url: args.url });
  await redis.connect();
  const redisCpuSeconds = async () => {
    const info = await redis.info("cpu");
    const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return field("used_cpu_user") + field("used_cpu_sys");
  };

  const script = fileURLToPath(import.meta.url);
  const forward = [
    "--url",
    args.url,
    "--prefix",
    args.prefix,
    "--channels",
    args.channels,
    "--listeners",
    args.listeners,
  ];
  if (args.disjoint) forward.push("--disjoint");
  const edges: ChildProcess[] = [0, 1].map((index) =>
    fork(script, ["--role", "edge", "--edge-index", String(index), ...forward], { execArgv: ["--import", "tsx"] }),
  );
  const next = (edge: ChildProcess) => once(edge, "message").then(([message]) => message as FromEdge);
  await Promise.all(edges.map(next));
  const perEdgeChannels = edgeChannels(0).length;
  console.error(`2 edges ready, ${listenerCount} listeners each on ${perEdgeChannels} of ${channelCount} channels`);

  const publisher = await RedisBroker.connect({ url: args.url, keyPrefix: args.prefix });
  const event = anyPack(OrderCreatedSchema, create(OrderCreatedSchema, { consignee: "Bench GmbH", weightKg: 120 }));
  let sent = 0;
  let failed = 0;
  let inFlight = 0;
  const publishOne = () => {
    const i = sent++;
    inFlight++;
    const publication = create(PublicationSchema, {
      channel: `project:${i % channelCount}`,
      event,
      metadata: { eventId: wallMs().toFixed(3), streamId: `order-${i}`, streamVersion: 1n },
    });
    publisher.publish(channelName(i), publication).then(
      () => inFlight--,
      () => (inFlight--, failed++),
    );
  };

  const results = [];
  for (const rate of rates) {
    const loadBefore = loadavg();
    let measuring = false;
    let windowSent = 0;
    let cpu = process.cpuUsage();
    let redisCpu = 0;
    const started = performance.now();
    const warmUpMs = 2000;
    const endMs = warmUpMs + seconds * 1000;
    let published = 0;
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const elapsed = performance.now() - started;
        if (!measuring && elapsed >= warmUpMs) {
          measuring = true;
          windowSent = sent;
          cpu = process.cpuUsage();
          void redisCpuSeconds().then((s) => (redisCpu = s));
          const from = wallMs();
          for (const edge of edges) edge.send({ type: "measure", from } satisfies ToEdge);
        }
        if (elapsed >= endMs) {
          const until = wallMs();
          for (const edge of edges) edge.send({ type: "until", until } satisfies ToEdge);
          clearInterval(tick);
          resolve();
          return;
        }
        // Open loop: publish what the clock says is due, unless 10k are already waiting.
        const due = Math.floor((elapsed / 1000) * rate) - published;
        for (let n = 0; n < due && inFlight < 10_000; n++, published++) publishOne();
      }, 5);
    });
    const publishedInWindow = sent - windowSent;
    const used = process.cpuUsage(cpu);
    const redisCpuUsed = (await redisCpuSeconds()) - redisCpu;
    // Let what was published in the window arrive (the edges' CPU window includes this drain).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const reports = await Promise.all(
      edges.map((edge) => {
        const result = next(edge);
        edge.send({ type: "stop" } satisfies ToEdge);
        return result;
      }),
    );
    const edgeResults = reports.filter((r): r is { type: "result" } & EdgeResult => r.type === "result");
    const deliveries = edgeResults.reduce((sum, r) => sum + r.deliveries, 0);
    const edgeCpuSeconds = edgeResults.reduce((sum, r) => sum + r.cpuMicros, 0) / 1e6;
    const latency = percentiles(
      edgeResults.flatMap((r) => r.latencies),
      [50, 99, 99.9],
    );
    const result = {
      rate,
      seconds,
      channels: channelCount,
      listenersPerEdge: listenerCount,
      channelsPerEdge: perEdgeChannels,
      published: publishedInWindow,
      publishedPerSecond: Math.round(publishedInWindow / seconds),
      failed,
      deliveries,
      deliveriesPerSecond: Math.round(deliveries / seconds),
      messagesPerEdge: edgeResults.map((r) => r.messages),
      expectedDeliveries: Math.round(
        (publishedInWindow * (args.disjoint ? 1 : 2) * Math.max(listenerCount, perEdgeChannels)) / perEdgeChannels,
      ),
      edgeCpuMicrosPerDelivery: +((edgeCpuSeconds * 1e6) / deliveries).toFixed(2),
      deliveriesPerEdgeCoreSecond: Math.round(deliveries / edgeCpuSeconds),
      publisherCpuMicrosPerPublication: +((used.user + used.system) / publishedInWindow).toFixed(2),
      redisCpuMicrosPerPublication: +((redisCpuUsed * 1e6) / publishedInWindow).toFixed(2),
      latencyMs: Object.fromEntries(Object.entries(latency).map(([k, v]) => [k, +v.toFixed(2)])),
      loadAverage: { before: loadBefore.map((l) => +l.toFixed(2)), after: loadavg().map((l) => +l.toFixed(2)) },
    };
    console.error(JSON.stringify(result));
    results.push(result);
  }

  for (const edge of edges) edge.send({ type: "exit" } satisfies ToEdge);
  await Promise.all(edges.map((edge) => once(edge, "exit")));
  await publisher.close();
  for await (const keys of redis.scanIterator({ MATCH: `${args.prefix}*`, COUNT: 1000 })) {
    if (keys.length > 0) await redis.unlink(keys);
  }
  await redis.close();

  mkdirSync(new URL("../results", import.meta.url), { recursive: true });
  const file = new URL("../results/redis-fanout.json", import.meta.url);
  writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), results }, null, 2) + "\n");
  console.log("results written to bench/results/redis-fanout.json");
}
