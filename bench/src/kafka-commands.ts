// Commands over Kafka (issue 5): the time from a source gateway's `KafkaCommandBus.send` to its
// reply, through the broker both ways, with a domain service (`serveKafkaCommands`) whose command
// does no work, so what is measured is the bus: encode, produce with acks = all, the group's
// fetch, `Router.invoke` (policy and validation), the reply's produce and fetch, decode.
//
//   npm run kafka-commands -w @sluice/bench [-- --sequential 300 --concurrency 64 --seconds 5]
//
// sequential: one command at a time, p50/p99. concurrent: `--concurrency` callers in a closed
// loop for `--seconds`, each on aggregates of its own, commands/s and p50/p99.
// Results: bench/results/kafka-commands.json.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { KafkaCommandBus, serveKafkaCommands, commandsTopic } from "@sluice/bus/kafka";
import { Role, methodName } from "@sluice/contracts";
import { DispatchCommandService, EditOrderRequestSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { deleteTopics } from "@sluice/kafka";
import { kafkaTestConnection } from "@sluice/kafka/testing";
import { Router, type ServiceImpl } from "@sluice/rpc";
import { percentiles } from "./percentiles";

const { values: args } = parseArgs({
  options: {
    sequential: { type: "string", default: "300" },
    concurrency: { type: "string", default: "64" },
    seconds: { type: "string", default: "5" },
    partitions: { type: "string", default: "12" },
  },
});

/** Every command accepted without work: what is measured is the bus. */
const accept: Partial<ServiceImpl<typeof DispatchCommandService>> = Object.fromEntries(
  DispatchCommandService.methods.map((m) => [m.localName, async () => ({})]),
);
const router = new Router().service(DispatchCommandService, accept as ServiceImpl<typeof DispatchCommandService>);
const options = {
  connection: { ...kafkaTestConnection, clientId: "bench" },
  contexts: ["dispatch"],
  topicPrefix: `bench-${randomBytes(4).toString("hex")}.`,
  partitions: Number(args.partitions),
};
const session = {
  sessionId: "s",
  userId: "u",
  displayName: "Bench",
  organizationId: randomUUID(),
  role: Role.DISPATCHER,
  expiresAt: Date.now() + 3_600_000,
};
const editOrder = methodName(DispatchCommandService.method.editOrder);

const server = await serveKafkaCommands(router, options);
const bus = await KafkaCommandBus.open(options);

async function timedSend(orderId: string): Promise<number> {
  const start = performance.now();
  await bus.send(
    {
      method: editOrder,
      request: create(EditOrderRequestSchema, { orderId, consignee: "c" }),
      session,
      commandId: randomUUID(),
      correlationId: randomUUID(),
      traceparent: undefined,
    },
    new AbortController().signal,
  );
  return performance.now() - start;
}

const round = (n: number) => Math.round(n * 100) / 100;
try {
  // Warm-up: the group joins, the code warms.
  for (let i = 0; i < 20; i++) await timedSend(randomUUID());

  const sequential: number[] = [];
  for (let i = 0; i < Number(args.sequential); i++) sequential.push(await timedSend(randomUUID()));

  const concurrent: number[] = [];
  const until = performance.now() + Number(args.seconds) * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Number(args.concurrency) }, async () => {
      const orderId = randomUUID();
      while (performance.now() < until) concurrent.push(await timedSend(orderId));
    }),
  );
  const elapsed = (performance.now() - started) / 1000;

  const seq = percentiles(sequential, [50, 99]);
  const con = percentiles(concurrent, [50, 99]);
  const report = {
    at: new Date().toISOString(),
    loadAverage: loadavg().map((n) => round(n)),
    settings: { ...args },
    sequential: { count: sequential.length, p50Ms: round(seq.p50!), p99Ms: round(seq.p99!) },
    concurrent: {
      concurrency: Number(args.concurrency),
      commandsPerSecond: Math.round(concurrent.length / elapsed),
      p50Ms: round(con.p50!),
      p99Ms: round(con.p99!),
    },
  };
  console.log(JSON.stringify(report));
  mkdirSync(new URL("../results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("../results/kafka-commands.json", import.meta.url), JSON.stringify(report, null, 2) + "\n");
} finally {
  await bus.close();
  await server.close();
  await deleteTopics(options.connection, [commandsTopic(options, "dispatch")]);
}
