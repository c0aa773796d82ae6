// New authenticated WebSocket connections per second per server core, token checks included.
// Each connection: upgrade with a bearer token (the gateway verifies the JWT and the session),
// wait for Connected, send a Ping, wait for the Pong, close and wait for the close.
//
// Two phases, because identity keeps a session it has read for 2 s (its session cache):
// - cold: each upgrade names a session not read for over 2.5 s, so every check pays the session
//   query (a reconnect storm after a restart); at most sessions / 2.5 s connections a second;
// - warm: closed loop, a number of parallel connectors over a few sessions, each connector
//   opening its next connection when its last one has closed (the cache answers the session).
// Connections are closed after their Pong in both, so nothing accumulates.
//
//   npm run connection-rate -w @sluice/bench [-- --connectors 16,64,256 --seconds 10 --sessions 800]
import { create } from "@bufbuild/protobuf";
import { ClientFrameSchema } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { PROTOBUF_SUBPROTOCOL, protobufCodec } from "@sluice/protocol";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { WebSocket } from "ws";
import { benchUsers, clientAddress } from "./bench-users";
import { startEmbeddedServer } from "./embedded-server";
import { percentiles } from "./percentiles";

const { values: args } = parseArgs({
  options: {
    connectors: { type: "string", default: "16,64,256" },
    seconds: { type: "string", default: "10" },
    sessions: { type: "string", default: "800" },
    "warm-sessions": { type: "string", default: "32" },
    "cold-connectors": { type: "string", default: "64" },
  },
});
const levels = args.connectors.split(",").map(Number);
const seconds = Number(args.seconds);
const goalPerNode = 3000;
const sessionReuseSeconds = 2.5;

const server = await startEmbeddedServer();
// One user per session, each from its sign-up: every token names its own session and user.
const tokens = (await benchUsers(server.url, Number(args.sessions))).map((user) => user.accessToken);
const warmTokens = tokens.slice(0, Number(args["warm-sessions"]));
const coldConnectors = Number(args["cold-connectors"]);

const round = (value: number, places = 1) => Math.round(value * 10 ** places) / 10 ** places;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ping = protobufCodec.encodeClient(create(ClientFrameSchema, { kind: { case: "ping", value: {} } }));
let attempt = 0;

type Outcome = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly reason: string };

/** One connection from upgrade to Pong, then a clean close. */
function connectOnce(token: string): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    let outcome: Outcome | undefined;
    const socket = new WebSocket(server.wsUrl, PROTOBUF_SUBPROTOCOL, {
      headers: { authorization: `Bearer ${token}` },
      localAddress: clientAddress(attempt++),
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

/** Runs `load` for `seconds` and measures it; `load` gets a deadline and reports each outcome. */
async function measure(
  label: Record<string, string | number>,
  load: (deadline: number, record: (outcome: Outcome) => void) => Promise<void>,
) {
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  const name = Object.entries(label)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  const loadAverage1m = round(loadavg()[0]!, 2);
  const serverCpuBefore = server.cpuSeconds();
  const benchCpuBefore = process.cpuUsage();
  const started = performance.now();
  const progress = setInterval(() => {
    const elapsed = (performance.now() - started) / 1000;
    process.stdout.write(
      `\r  ${name}: ${latencies.length} connections, ${Math.round(latencies.length / elapsed)}/s   `,
    );
  }, 1000);
  await load(started + seconds * 1000, (outcome) => {
    if (outcome.ok) latencies.push(outcome.ms);
    else failures.set(outcome.reason, (failures.get(outcome.reason) ?? 0) + 1);
  });
  const elapsed = (performance.now() - started) / 1000;
  const serverCpu = server.cpuSeconds() - serverCpuBefore;
  const benchCpu = process.cpuUsage(benchCpuBefore);
  clearInterval(progress);
  process.stdout.write("\n");
  const p = percentiles(latencies, [50, 90, 99, 100]);
  const serverCores = serverCpu / elapsed;
  const connectionCpu = Math.max(0, serverCpu - idleCores * elapsed);
  const result = {
    ...label,
    seconds: round(elapsed),
    connections: latencies.length,
    failures: Object.fromEntries(failures),
    connectionsPerSecond: Math.round(latencies.length / elapsed),
    latencyMs: Object.fromEntries(Object.entries(p).map(([k, v]) => [k, round(v)])),
    serverCpuCores: round(serverCores, 2),
    serverIdleCores: round(idleCores, 3),
    /** Server CPU per connection, its idle spending taken off. */
    serverCpuMsPerConnection: round((connectionCpu * 1000) / Math.max(1, latencies.length), 3),
    /** Connections one fully used server core would open at that cost. */
    connectionsPerServerCoreSecond: Math.round(latencies.length / Math.max(connectionCpu, 0.01)),
    benchCpuCores: round((benchCpu.user + benchCpu.system) / 1e6 / elapsed, 2),
    loadAverage1m,
  };
  console.log(
    `${name}: ${result.connectionsPerSecond} connections/s (open → Pong p50 ${result.latencyMs.p50} ms, ` +
      `p99 ${result.latencyMs.p99} ms); server ${result.serverCpuCores} cores (idle ${result.serverIdleCores}), ` +
      `${result.serverCpuMsPerConnection} ms CPU each → ${result.connectionsPerServerCoreSecond}/s per core; bench ${result.benchCpuCores} cores; ` +
      `failures ${JSON.stringify(result.failures)}`,
  );
  return result;
}

// Warm-up on the warm sessions (JIT on both sides), then let their cache entries lapse, measuring
// what the server spends with no connections coming (timers, consumers): it is taken off below.
await Promise.all(Array.from({ length: 200 }, (_, i) => connectOnce(warmTokens[i % warmTokens.length]!)));
await sleep(500);
const idleCpuBefore = server.cpuSeconds();
const idleStarted = performance.now();
await sleep(sessionReuseSeconds * 1000);
const idleCores = (server.cpuSeconds() - idleCpuBefore) / ((performance.now() - idleStarted) / 1000);
console.log(`server idle: ${round(idleCores, 3)} cores`);

const results = [];
// Cold: closed loop too (an open loop past what a contended server takes only measures its
// backlog), but a session is named again only 2.5 s after its last upgrade, past the cache's 2 s.
const lastUsed = tokens.map(() => -Infinity);
let nextCold = 0;
results.push(
  await measure({ phase: "cold", connectors: coldConnectors }, async (deadline, record) => {
    await Promise.all(
      Array.from({ length: coldConnectors }, async () => {
        while (performance.now() < deadline) {
          const index = nextCold++ % tokens.length;
          const wait = lastUsed[index]! + sessionReuseSeconds * 1000 - performance.now();
          if (wait > 0) await sleep(wait);
          lastUsed[index] = performance.now();
          record(await connectOnce(tokens[index]!));
        }
      }),
    );
  }),
);
for (const connectors of levels) {
  let next = 0;
  results.push(
    await measure({ phase: "warm", connectors }, async (deadline, record) => {
      await Promise.all(
        Array.from({ length: connectors }, async () => {
          while (performance.now() < deadline) record(await connectOnce(warmTokens[next++ % warmTokens.length]!));
        }),
      );
    }),
  );
}

await server.stop();
console.log(`goal: ${goalPerNode} new authenticated connections/s per node`);
mkdirSync(new URL("../results", import.meta.url), { recursive: true });
writeFileSync(
  new URL("../results/connection-rate.json", import.meta.url),
  JSON.stringify(
    { at: new Date().toISOString(), sessions: tokens.length, warmSessions: warmTokens.length, results },
    null,
    2,
  ) + "\n",
);
console.log("results written to bench/results/connection-rate.json");
