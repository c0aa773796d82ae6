// New authenticated WebSocket connections per second per server core, token checks included.
// Each connection: upgrade with a bearer token (the gateway verifies the JWT and looks up its
// session), wait for Connected, send a Ping, wait for the Pong, close and wait for the close.
// Closed loop: a number of parallel connectors, each opening its next connection when the last
// one has closed, so nothing accumulates and the rate is what the server sustains.
//
//   npm run connection-rate -w @sluice/bench [-- --connectors 16,64,256 --seconds 10 --sessions 32]
import { create } from "@bufbuild/protobuf";
import { ClientFrameSchema } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { PROTOBUF_SUBPROTOCOL, protobufCodec } from "@sluice/protocol";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { WebSocket } from "ws";
import { benchUsers, clientAddress, postJson } from "./bench-users";
import { startEmbeddedServer } from "./embedded-server";
import { percentiles } from "./percentiles";

const { values: args } = parseArgs({
  options: {
    connectors: { type: "string", default: "16,64,256" },
    seconds: { type: "string", default: "10" },
    sessions: { type: "string", default: "32" },
  },
});
const levels = args.connectors.split(",").map(Number);
const seconds = Number(args.seconds);
const sessionCount = Number(args.sessions);
const goalPerNode = 3000;

const server = await startEmbeddedServer();
const { users, source } = await benchUsers(server.url, sessionCount);
// One session per token: every upgrade looks up a different session row than its neighbour's.
const tokens: string[] = [];
for (let i = 0; i < sessionCount; i++) {
  const reply = await postJson(`${server.url}/auth/signin`, users[i % users.length], clientAddress(i));
  if (reply.status !== 200) throw new Error(`sign-in answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  tokens.push((reply.body as { accessToken: string }).accessToken);
}
console.log(`${tokens.length} sessions of ${Math.min(users.length, tokens.length)} users (${source})`);

const ping = protobufCodec.encodeClient(create(ClientFrameSchema, { kind: { case: "ping", value: {} } }));
let attempt = 0;

type Outcome = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly reason: string };

/** One connection from upgrade to Pong, then a clean close. */
function connectOnce(): Promise<Outcome> {
  const index = attempt++;
  const started = performance.now();
  return new Promise((resolve) => {
    let outcome: Outcome | undefined;
    const socket = new WebSocket(server.wsUrl, PROTOBUF_SUBPROTOCOL, {
      headers: { authorization: `Bearer ${tokens[index % tokens.length]}` },
      localAddress: clientAddress(index),
      perMessageDeflate: false,
    });
    socket.binaryType = "nodebuffer";
    socket.on("message", (data: Buffer) => {
      const frame = protobufCodec.decodeServer(new Uint8Array(data));
      if (frame.kind.case === "connected") socket.send(ping);
      if (frame.kind.case === "pong") {
        outcome = { ok: true, ms: performance.now() - started };
        socket.close(1000);
      }
    });
    socket.on("error", (error) => {
      outcome ??= { ok: false, reason: error.message };
    });
    socket.on("close", (code) => resolve(outcome ?? { ok: false, reason: `closed ${code} before the Pong` }));
  });
}

// Warm-up: the JIT on both sides and the sessions' pages in PGlite's cache.
await Promise.all(Array.from({ length: 200 }, connectOnce));

const round = (value: number, places = 1) => Math.round(value * 10 ** places) / 10 ** places;
const results = [];
for (const connectors of levels) {
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  const load = loadavg()[0]!;
  const serverCpuBefore = server.cpuSeconds();
  const benchCpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const progress = setInterval(() => {
    const elapsed = (performance.now() - started) / 1000;
    process.stdout.write(
      `\r  ${connectors} connectors: ${latencies.length} connections, ${Math.round(latencies.length / elapsed)}/s   `,
    );
  }, 1000);
  await Promise.all(
    Array.from({ length: connectors }, async () => {
      while (performance.now() < deadline) {
        const outcome = await connectOnce();
        if (outcome.ok) latencies.push(outcome.ms);
        else failures.set(outcome.reason, (failures.get(outcome.reason) ?? 0) + 1);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const serverCpu = server.cpuSeconds() - serverCpuBefore;
  const benchCpu = process.cpuUsage(benchCpuBefore);
  clearInterval(progress);
  process.stdout.write("\n");
  const p = percentiles(latencies, [50, 90, 99, 100]);
  const perSecond = latencies.length / elapsed;
  const serverCores = serverCpu / elapsed;
  const result = {
    connectors,
    seconds: round(elapsed),
    connections: latencies.length,
    failures: Object.fromEntries(failures),
    connectionsPerSecond: Math.round(perSecond),
    latencyMs: Object.fromEntries(Object.entries(p).map(([k, v]) => [k, round(v)])),
    serverCpuCores: round(serverCores, 2),
    connectionsPerSecondPerServerCore: Math.round(perSecond / serverCores),
    serverCpuMsPerConnection: round((serverCpu * 1000) / Math.max(1, latencies.length), 3),
    benchCpuCores: round((benchCpu.user + benchCpu.system) / 1e6 / elapsed, 2),
    loadAverage1m: round(load, 2),
  };
  results.push(result);
  console.log(
    `${connectors} connectors: ${result.connectionsPerSecond} connections/s (open → Pong p50 ${result.latencyMs.p50} ms, ` +
      `p99 ${result.latencyMs.p99} ms); server ${result.serverCpuCores} cores → ` +
      `${result.connectionsPerSecondPerServerCore}/s per core (${result.serverCpuMsPerConnection} ms CPU each); ` +
      `bench ${result.benchCpuCores} cores; failures ${JSON.stringify(result.failures)}`,
  );
}

await server.stop();
const best = Math.max(...results.map((r) => r.connectionsPerSecondPerServerCore));
console.log(
  `best: ${best} connections/s per server core; goal ${goalPerNode}/s per node: ${best >= goalPerNode ? "met per core" : "not met per core"}`,
);
mkdirSync(new URL("../results", import.meta.url), { recursive: true });
writeFileSync(
  new URL("../results/connection-rate.json", import.meta.url),
  JSON.stringify(
    { at: new Date().toISOString(), sessions: tokens.length, users: users.length, userSource: source, results },
    null,
    2,
  ) + "\n",
);
console.log("results written to bench/results/connection-rate.json");
