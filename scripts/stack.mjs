#!/usr/bin/env node
// `npm run stack`: the scale-out shape on this machine's PostgreSQL, Redis and Kafka
// (scripts/services.sh, scripts/kafka.sh): the demo seed, then a domain service, a projector, the
// auth role, two sink gateways and two source gateways, each its own process (docs/scaling.md).
// Ctrl-C stops them all, gateways first. Any variable of a role (docs/scaling.md) set in the
// environment applies to every role; the defaults keep the stack apart from tests and `npm start`.
import { spawn } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const main = `${root}apps/server/src/roles/main.ts`;

const shared = {
  DATABASE_URL: "postgres://sluice:sluice@127.0.0.1:5432/sluice",
  DATABASE_SCHEMA: "sluice_stack",
  KAFKA_BROKERS: "127.0.0.1:9092",
  KAFKA_TOPIC_PREFIX: "stack.",
  REDIS_URL: "redis://127.0.0.1:6379",
  REDIS_KEY_PREFIX: "sluice-stack:",
  HOST: "127.0.0.1",
  ...process.env,
};

// In start order. The domain service comes first and alone: on a new schema it creates the event
// store's tables and the personal-data master key the other roles then read.
const roles = [
  { name: "domain-service", role: "domain-service", port: 8082 },
  { name: "projector", role: "projector", port: 8083 },
  // Identity's REST service alone, for SDK clients; the gateways serve /auth too, so the app's
  // sign-in stays on its own origin.
  { name: "auth", role: "auth", port: 8084 },
  { name: "sink-1", role: "sink-gateway", port: 8081 },
  { name: "sink-2", role: "sink-gateway", port: 8091 },
  { name: "gateway-1", role: "source-gateway", port: 8080, gatewayId: "stack-gateway-1" },
  { name: "gateway-2", role: "source-gateway", port: 8090, gatewayId: "stack-gateway-2" },
];
const width = Math.max(...roles.map((r) => r.name.length));
const running = [];
let stopping = false;

function start(name, args, env) {
  const child = spawn(process.execPath, ["--import", "tsx", main, ...args], {
    cwd: root,
    env: { ...shared, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const label = name.padEnd(width);
  let buffered = "";
  const ready = new Promise((resolve, reject) => {
    const forward = (stream) => (data) => {
      const text = buffered + data.toString();
      const lines = text.split("\n");
      buffered = lines.pop();
      for (const line of lines) {
        stream.write(`${label} | ${line}\n`);
        if (/ ready at /.test(line)) resolve();
      }
    };
    child.stdout.on("data", forward(process.stdout));
    child.stderr.on("data", forward(process.stderr));
    child.once("exit", (code, signal) => {
      if (buffered) process.stdout.write(`${label} | ${buffered}\n`);
      reject(new Error(`${name} exited (${signal ?? code})`));
    });
  });
  ready.catch(() => undefined);
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  return { name, child, ready, exited };
}

async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  // Gateways first: their sockets drain while the roles behind them still answer.
  for (const proc of running.reverse()) {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill("SIGTERM");
    await proc.exited;
  }
  process.exit(code);
}
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

try {
  const seed = start("seed", ["seed"], {});
  if ((await seed.exited) !== 0) throw new Error("the demo seed failed");
  for (const [index, { name, role, port, gatewayId }] of roles.entries()) {
    const proc = start(name, [role], { PORT: String(port), ...(gatewayId && { GATEWAY_ID: gatewayId }) });
    running.push(proc);
    void proc.exited.then(() => {
      if (!stopping) {
        console.error(`stack: ${name} stopped; stopping the rest`);
        void stopAll(1);
      }
    });
    // The first alone (see above); the rest start side by side.
    if (index === 0) await proc.ready;
  }
  await Promise.all(running.map((proc) => proc.ready));
} catch (error) {
  console.error(`stack: ${error.message}`);
  await stopAll(1);
}

const host = ["0.0.0.0", "::"].includes(shared.HOST) ? "localhost" : shared.HOST;
const gateways = roles.filter((r) => r.role === "source-gateway").map((r) => `http://${host}:${r.port}`);
const authUrl = `http://${host}:${roles.find((r) => r.role === "auth").port}`;
console.log(`
Dispatch runs in the scale-out shape: open ${gateways.join(" or ")}
(two source gateways, one app; sign in with ana@acme.test or ben@acme.test, password "dispatch").
Identity's REST service alone: ${authUrl}/auth (API docs at ${authUrl}/docs).
Operations: /healthz, /readyz, /metrics on every role's port (${roles.map((r) => `${r.name} ${r.port}`).join(", ")}).
Ctrl-C stops everything.
`);
