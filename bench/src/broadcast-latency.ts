// Command to broadcast: the time from a command sent by one client to its event arriving on the
// sockets of 100 other clients subscribed to the project, at fixed command rates (open loop).
//
//   npm run broadcast-latency -w @sluice/bench [-- --rates 200,1000 --subscribers 100 --seconds 10 --warmup 3 --subscriber sdk|raw --shape embedded|scale-out --projects 1 --domain-services 1]
//
// `--shape scale-out` runs it against a deployment of its own on the machine's Kafka, Redis and
// PostgreSQL, a process per role with two source gateways (`targets.ts`): subscribers and senders
// are spread over both gateways in turn, so every command reaches subscribers on both gateways.
//
// Each rate first runs `--warmup` seconds unmeasured: a fresh server compiles its hot paths and
// fills its caches (PGlite's included) under the load, and a queue built then would be counted
// against the steady rate.
//
// `--subscriber sdk` (the default) subscribes with the client SDK, which decodes every frame and
// recovers after a disconnect. `--subscriber raw` uses bare sockets that note the arrival of the
// frame and find the consignee in its bytes without decoding it: the figure is then the path to
// the socket, without the load generator's decoding, which on a 2-core machine competes with the
// server for the same cores.
import { create, isMessage } from "@bufbuild/protobuf";
import { createClient } from "@sluice/client-sdk";
import { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { ClientFrameSchema } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { PROTOBUF_SUBPROTOCOL, protobufCodec } from "@sluice/protocol";
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { WebSocket } from "ws";
import { signIn } from "@sluice/server/test-support";
import { embeddedTarget, scaleOutTarget } from "./targets";
import { percentiles } from "./percentiles";

const { values: args } = parseArgs({
  options: {
    rates: { type: "string", default: "200,1000" },
    subscribers: { type: "string", default: "100" },
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "3" },
    subscriber: { type: "string", default: "sdk" },
    shape: { type: "string", default: "embedded" },
    projects: { type: "string", default: "1" },
    "domain-services": { type: "string", default: "1" },
  },
});
if (args.subscriber !== "sdk" && args.subscriber !== "raw") throw new Error("--subscriber is sdk or raw");
if (args.shape !== "embedded" && args.shape !== "scale-out") throw new Error("--shape is embedded or scale-out");
const rates = args.rates.split(",").map(Number);
const subscriberCount = Number(args.subscribers);
const seconds = Number(args.seconds);
const warmupSeconds = Number(args.warmup);
const projectCount = Number(args.projects);
const domainServices = Number(args["domain-services"]);
if (!Number.isInteger(domainServices) || domainServices < 1) throw new Error("--domain-services is a positive integer");
// The gateway allows 50 calls/s per connection by default; senders stay under it, as real users do.
const callsPerSender = 40;

process.stdout.write(`starting the ${args.shape} shape `);
const target = args.shape === "embedded" ? await embeddedTarget() : await scaleOutTarget({ domainServices });
console.log(target.urls.join(", "));
const token = await signIn(target.urls[0]!, "ana@acme.test");
/** The n-th client's socket URL: clients are spread over the gateways in turn. */
const wsUrl = (n: number) => `${target.urls[n % target.urls.length]!.replace(/^http/, "ws")}/ws`;
let clientsMade = 0;
const connect = () => createClient({ url: wsUrl(clientsMade++), token, WebSocket: WebSocket as never });

const setup = connect();
// Commands go round robin over the projects; every subscriber listens to all of their channels, so
// each command reaches every subscriber. One project's commands run one after another in the
// scale-out shape (they are keyed by project), as a real organization's are spread over many.
const projectIds: string[] = [];
for (let i = 0; i < projectCount; i++) {
  const { projectId } = await setup.service(DispatchCommandService).createProject({ name: `bench ${Date.now()} ${i}` });
  projectIds.push(projectId);
}
const channels = projectIds.map((projectId) => `project:${projectId}`);

const sentAt = new Map<string, number>();
let latencies: number[] = [];
let delivered = 0;
// A subscriber that fell too far behind is disconnected (slow consumer) and resubscribes; past
// the channel's retained history it is told recovered:false instead of silently missing events.
let reconnects = 0;
let unrecoverable = 0;
const subscribers: Array<{ close(): unknown }> = [];

function noteDelivery(consignee: string): void {
  const sent = sentAt.get(consignee);
  if (sent === undefined) return;
  delivered += 1;
  latencies.push(performance.now() - sent);
}

async function sdkSubscriber(): Promise<void> {
  const client = connect();
  subscribers.push(client);
  let subscribedOnce = false;
  client.onStateChange(({ state }) => {
    if (state === "disconnected") reconnects++;
  });
  await Promise.all(
    channels.map(
      (channel) =>
        new Promise<void>((resolve) =>
          client.subscribe(channel, {
            onSubscribed: ({ recovered }) => {
              if (subscribedOnce && !recovered) unrecoverable++;
              subscribedOnce = true;
              resolve();
            },
            onPublication: ({ event }) => {
              if (isMessage(event, OrderCreatedSchema)) noteDelivery(event.consignee);
            },
          }),
        ),
    ),
  );
}

// A ServerFrame whose first byte is field 3 (publication), length-delimited.
const publicationTag = 0x1a;
const marker = Buffer.from("bench ");
const subscribeFrames = channels.map((channel, i) =>
  protobufCodec.encodeClient(create(ClientFrameSchema, { kind: { case: "subscribe", value: { id: i + 1, channel } } })),
);
const pongFrame = protobufCodec.encodeClient(create(ClientFrameSchema, { kind: { case: "pong", value: {} } }));

async function rawSubscriber(): Promise<void> {
  const socket = new WebSocket(wsUrl(clientsMade++), PROTOBUF_SUBPROTOCOL, {
    headers: { authorization: `Bearer ${token}` },
  });
  socket.binaryType = "nodebuffer";
  subscribers.push(socket);
  socket.on("close", () => reconnects++);
  let subscribed = 0;
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.on("message", (data: Buffer) => {
      if (data[0] === publicationTag) {
        // The consignee, "bench <rate> <n>", is the one string of its kind in the frame.
        const at = data.indexOf(marker);
        if (at < 0) return;
        let end = at + marker.length;
        while (end < data.length && (data[end] === 0x20 || (data[end]! >= 0x30 && data[end]! <= 0x39))) end++;
        noteDelivery(data.toString("latin1", at, end));
        return;
      }
      const frame = protobufCodec.decodeServer(new Uint8Array(data));
      if (frame.kind.case === "connected") for (const subscribe of subscribeFrames) socket.send(subscribe);
      if (frame.kind.case === "reply" && frame.kind.value.id <= channels.length) {
        const { outcome } = frame.kind.value;
        if (outcome.case !== "subscribed") {
          reject(new Error(`subscribe refused: ${outcome.case === "error" ? outcome.value.message : outcome.case}`));
        } else if (++subscribed === channels.length) resolve();
      }
      if (frame.kind.case === "ping") socket.send(pongFrame);
    });
  });
}

process.stdout.write(
  `connecting ${subscriberCount} ${args.subscriber} subscribers to ${channels.length} project channels `,
);
await Promise.all(Array.from({ length: subscriberCount }, args.subscriber === "raw" ? rawSubscriber : sdkSubscriber));
console.log("done");

type DispatchCommands = ReturnType<typeof dispatchCommands>;
const dispatchCommands = (client: ReturnType<typeof connect>) => client.service(DispatchCommandService);

/** Calls not yet answered, warm-up included. */
let inFlight = 0;

/**
 * Sends `CreateOrder` open-loop at `rate`, round robin over `commands`: `warmupSeconds` unmeasured,
 * then `seconds` measured, without a pause between them (a pause would let the server go idle and
 * meet the measured window with a fresh burst). A measured command's consignee is
 * `bench <rate> <n>`, what a delivery is matched by; `measuring` is called as the first one goes.
 * Resolves with the number of measured commands sent.
 */
async function sendAtRate(
  rate: number,
  commands: readonly DispatchCommands[],
  measuring: () => void,
  settled: (outcome: true | Error, acknowledgedAfterMs: number) => void,
): Promise<number> {
  const warmup = rate * warmupSeconds;
  const total = warmup + rate * seconds;
  const started = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      for (; sent < due; sent++) {
        const measured = sent >= warmup;
        if (sent === warmup) measuring();
        const consignee = measured ? `bench ${rate} ${sent - warmup}` : `warmup ${rate} ${sent}`;
        const sendTime = performance.now();
        if (measured) sentAt.set(consignee, sendTime);
        inFlight++;
        const projectId = projectIds[sent % projectIds.length]!;
        commands[sent % commands.length]!.createOrder({ projectId, consignee, address: "Loopback 1", weightKg: 10 })
          .then(
            () => measured && settled(true, performance.now() - sendTime),
            (error: Error) => measured && settled(error, performance.now() - sendTime),
          )
          .finally(() => inFlight--);
      }
      if (sent >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 2);
  });
  return sent - warmup;
}

const results = [];
for (const rate of rates) {
  const senders = Array.from({ length: Math.ceil(rate / callsPerSender) }, connect);
  const commands = senders.map(dispatchCommands);
  latencies = [];
  delivered = 0;
  reconnects = 0;
  unrecoverable = 0;
  sentAt.clear();
  let acknowledged = 0;
  // Command to its reply, beside command to broadcast: which half of the way the time is spent on.
  const ackLatencies: number[] = [];
  let failed = 0;
  const failures = new Map<string, number>();
  let cpuBefore: Record<string, number> = {};
  let benchCpuBefore = process.cpuUsage();
  let started = performance.now();
  const total = rate * seconds;
  if (warmupSeconds > 0) process.stdout.write(`  ${rate}/s: warming up for ${warmupSeconds} s, then measuring\n`);
  const sent = await sendAtRate(
    rate,
    commands,
    () => {
      cpuBefore = target.cpuSeconds();
      benchCpuBefore = process.cpuUsage();
      started = performance.now();
    },
    (outcome, acknowledgedAfterMs) => {
      ackLatencies.push(acknowledgedAfterMs);
      if (outcome === true) acknowledged++;
      else {
        failed++;
        failures.set(outcome.message, (failures.get(outcome.message) ?? 0) + 1);
      }
    },
  );
  const sendSeconds = (performance.now() - started) / 1000;
  const cpuAfter = target.cpuSeconds();
  // Cores each part used over the sending window: threads of the embedded server, or role processes.
  const cpuCores = Object.fromEntries(
    Object.entries(cpuAfter).map(([part, seconds]) => [
      part,
      Math.round(((seconds - (cpuBefore[part] ?? 0)) / sendSeconds) * 100) / 100,
    ]),
  );
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const benchCpuUsed = (benchCpu.user + benchCpu.system) / 1e6;
  const progress = setInterval(
    () =>
      console.log(
        `  ${rate}/s: acknowledged ${acknowledged}/${total}, delivered ${delivered}/${total * subscriberCount}`,
      ),
    1000,
  );
  const drainDeadline = performance.now() + 60_000;
  while (
    (acknowledged + failed < total || delivered < acknowledged * subscriberCount) &&
    performance.now() < drainDeadline
  ) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  clearInterval(progress);
  const rounded = (values: number[]) =>
    Object.fromEntries(
      Object.entries(percentiles(values, [50, 90, 99, 99.9, 100])).map(([k, v]) => [k, Math.round(v * 100) / 100]),
    );
  const result = {
    rate,
    subscriber: args.subscriber,
    subscribers: subscriberCount,
    seconds,
    senders: senders.length,
    sent,
    acknowledged,
    failed,
    failures: Object.fromEntries(failures),
    deliveriesExpected: acknowledged * subscriberCount,
    delivered,
    subscriberReconnects: reconnects,
    resubscribesNotRecovered: unrecoverable,
    achievedRate: Math.round(sent / sendSeconds),
    latencyMs: rounded(latencies),
    acknowledgedMs: rounded(ackLatencies),
    shape: target.shape,
    gateways: target.urls.length,
    projects: projectCount,
    serverCpuCores: cpuCores,
    // The load generator shares the machine: what it used is what the server could not.
    benchCpuSecondsPerSecond: Math.round((benchCpuUsed / sendSeconds) * 100) / 100,
  };
  results.push(result);
  console.log(
    `${rate} commands/s over ${projectCount} project(s) × ${subscriberCount} subscribers: p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ` +
      `max ${result.latencyMs.p100} ms (reply p50 ${result.acknowledgedMs.p50}, p99 ${result.acknowledgedMs.p99} ms); delivered ${delivered}/${result.deliveriesExpected}, failed ${failed}, ` +
      `subscriber reconnects ${reconnects} (${unrecoverable} told recovered:false), server CPU ${cpuCores.total} cores ` +
      `(${Object.entries(cpuCores)
        .filter(([part]) => part !== "total")
        .map(([part, cores]) => `${part} ${cores}`)
        .join(", ")}), ` +
      `load generator CPU ${result.benchCpuSecondsPerSecond} cores`,
  );
  await Promise.all(senders.map((client) => client.close()));
}

await Promise.all([setup, ...subscribers].map((client) => client.close()));
await target.stop();
mkdirSync(new URL("../results", import.meta.url), { recursive: true });
const file = new URL("../results/broadcast-latency.json", import.meta.url);
writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), results }, null, 2) + "\n");
console.log(`results written to bench/results/broadcast-latency.json`);
