// What a bench runs against: the embedded server (one process), or a scale-out deployment (a
// process per role on the machine's Kafka, Redis and PostgreSQL, two source gateways). Either way
// clients get the gateways' URLs, and the CPU is read per part from /proc.
import { pidCpuMs } from "./cpuTime";
import { startEmbeddedServer } from "./embedded-server";

export interface BenchTarget {
  readonly shape: "embedded" | "scale-out";
  /** Where clients connect: the one server, or each source gateway. */
  readonly urls: readonly string[];
  /** CPU seconds used so far by each part (threads of the server, or role processes) and in `total`. */
  cpuSeconds(): Record<string, number>;
  stop(): Promise<void>;
}

export async function embeddedTarget(): Promise<BenchTarget> {
  const server = await startEmbeddedServer();
  const pid = String(server.pid);
  return {
    shape: "embedded",
    urls: [server.url],
    cpuSeconds() {
      const threads = [...server.threadCpuSeconds()];
      const others = threads.filter(([tid]) => tid !== pid).sort((a, b) => b[1] - a[1]);
      return {
        total: server.cpuSeconds(),
        "main thread": threads.find(([tid]) => tid === pid)?.[1] ?? 0,
        // The domain thread: by far the busiest after the main one (the rest are V8's and libuv's).
        "domain thread": others[0]?.[1] ?? 0,
      };
    },
    stop: () => server.stop(),
  };
}

/**
 * A scale-out deployment of its own (schema, topics, Redis keys), as the roles' tests start one:
 * the seed, `domainServices` domain services (one unless told), a projector, two sink gateways
 * and two source gateways, each a process. Kafka, Redis and PostgreSQL are the machine's (`scripts/services.sh`, `scripts/kafka.sh`);
 * their CPU is not counted.
 */
export async function scaleOutTarget({ domainServices = 1 } = {}): Promise<BenchTarget> {
  const { ScaleOutDeployment, scaleOutTestSkip } = await import("@sluice/server/roles/testing");
  const unreachable = await scaleOutTestSkip();
  if (unreachable) throw new Error(`the scale-out shape needs its services: ${unreachable}`);
  const deployment = new ScaleOutDeployment({ env: { KAFKA_PARTITIONS: "12", DATABASE_MAX_CONNECTIONS: "10" } });
  await deployment.seed();
  const start = (role: Parameters<typeof deployment.start>[0]["role"], name: string, env = {}) =>
    deployment.start({ role, name, env });
  // The domain service first: on a new schema it creates the tables the others use.
  await start("domain-service", "domain service 1");
  await Promise.all([
    // They split the commands' partitions; one of them relays the outbox.
    ...Array.from({ length: domainServices - 1 }, (_, i) => start("domain-service", `domain service ${i + 2}`)),
    start("projector", "projector"),
    start("sink-gateway", "sink 1"),
    start("sink-gateway", "sink 2"),
  ]);
  const gateways = await Promise.all(
    ["gateway 1", "gateway 2"].map((name, i) =>
      start("source-gateway", name, { GATEWAY_ID: deployment.gatewayId(`gw${i + 1}`) }),
    ),
  );
  return {
    shape: "scale-out",
    urls: gateways.map((gateway) => gateway.url),
    cpuSeconds() {
      const parts: Record<string, number> = { total: 0 };
      for (const role of deployment.processes) {
        if (role.child.exitCode !== null || role.child.pid === undefined) continue;
        const seconds = pidCpuMs(role.child.pid) / 1000;
        parts[role.name] = seconds;
        parts.total! += seconds;
      }
      return parts;
    },
    stop: () => deployment.cleanUp(),
  };
}
