// The scale-out shape on the real Kafka, Redis and PostgreSQL: every role a child process started
// the way an operator starts it (`tsx roles/main.ts <role>`, configured by the environment), on
// topics, keys and a schema of this run's own.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { isMessage } from "@bufbuild/protobuf";
import { deleteTestKeys, openTestRedis, redisTestSkip, redisTestUrl, testKeyPrefix } from "@sluice/broker/testing";
import { commandsTopic, eventsTopic } from "@sluice/bus/kafka";
import { createClient, ErrorCode, RpcError, type SluiceClient } from "@sluice/client-sdk";
import { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { DispatchQueryService } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { postgresTestUrl, testBackends } from "@sluice/database/testing";
import { deleteTopics } from "@sluice/kafka";
import { kafkaTestBrokers, kafkaTestConnection, kafkaTestSkip } from "@sluice/kafka/testing";
import pg from "pg";
import { WebSocket } from "ws";
import { signIn } from "../test-support";

const postgresSkip = (await testBackends()).find((backend) => backend.name === "postgres")!.skip;
const skip = (await kafkaTestSkip()) || (await redisTestSkip()) || postgresSkip;

const main = fileURLToPath(new URL("./main.ts", import.meta.url));
const root = fileURLToPath(new URL("../../../../", import.meta.url));

/** Resolves once `condition` holds; fails naming `what` after timeoutMs. */
async function eventually(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface RoleProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly output: string[];
  /** Resolves with the URL the role printed once ready. */
  readonly ready: Promise<string>;
  readonly exited: Promise<number | null>;
}

function run(args: readonly string[], name: string, env: NodeJS.ProcessEnv): RoleProcess {
  const child = spawn(process.execPath, ["--import", "tsx", main, ...args], {
    cwd: root,
    env: { ...process.env, ...env, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (data: Buffer) => {
      output.push(data.toString());
      const match = / ready at (http:\/\/\S+)/.exec(output.join(""));
      if (match) resolve(match[1]!);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (data: Buffer) => output.push(data.toString()));
    void exited.then((code) => reject(new Error(`${name} exited (${code}) before it was ready:\n${output.join("")}`)));
  });
  ready.catch(() => undefined);
  return { name, child, output, ready, exited };
}

async function stop(role: RoleProcess): Promise<void> {
  if (role.child.exitCode !== null || role.child.signalCode !== null) return;
  role.child.kill("SIGTERM");
  const timer = setTimeout(() => role.child.kill("SIGKILL"), 20_000);
  await role.exited;
  clearTimeout(timer);
}

describe(
  "the scale-out shape, one process per role, on Kafka, Redis and PostgreSQL",
  { skip, timeout: 300_000 },
  () => {
    const run_ = randomBytes(5).toString("hex");
    const schema = `scale_out_${run_}`;
    const topicPrefix = `test-${run_}.`;
    const keyPrefix = testKeyPrefix();
    const env: NodeJS.ProcessEnv = {
      DATABASE_URL: postgresTestUrl,
      DATABASE_SCHEMA: schema,
      DATABASE_MAX_CONNECTIONS: "4",
      KAFKA_BROKERS: kafkaTestBrokers.join(","),
      KAFKA_TOPIC_PREFIX: topicPrefix,
      KAFKA_PARTITIONS: "4",
      REDIS_URL: redisTestUrl,
      REDIS_KEY_PREFIX: keyPrefix,
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "warn",
      SLUICE_PERSONAL_DATA_KEY: randomBytes(32).toString("base64"),
    };
    const roles: RoleProcess[] = [];
    const clients: SluiceClient[] = [];
    let gateway1: string;
    let gateway2: string;

    before(async () => {
      const seed = run(["seed"], "seed", env);
      roles.push(seed);
      assert.equal(await seed.exited, 0, `the seed failed:\n${seed.output.join("")}`);
      // The domain service first: it creates the event store's tables and the Kafka topics the others use.
      const domain = run(["domain-service"], "domain service", env);
      roles.push(domain);
      await domain.ready;
      const started = [
        run(["projector"], "projector", env),
        run(["sink-gateway"], "sink gateway", env),
        run(["source-gateway"], "source gateway 1", { ...env, GATEWAY_ID: `gw1-${run_}` }),
        run(["source-gateway"], "source gateway 2", { ...env, GATEWAY_ID: `gw2-${run_}` }),
      ];
      roles.push(...started);
      const urls = await Promise.all(started.map((role) => role.ready));
      [gateway1, gateway2] = [urls[2]!, urls[3]!];
    });

    after(async () => {
      await Promise.all(clients.map((client) => client.close()));
      await Promise.all(roles.map(stop));
      await deleteTopics(kafkaTestConnection, [
        eventsTopic({ connection: kafkaTestConnection, contexts: [], topicPrefix }, "dispatch"),
        commandsTopic({ connection: kafkaTestConnection, contexts: [], topicPrefix }, "dispatch"),
      ]).catch(() => undefined);
      const redis = await openTestRedis();
      await deleteTestKeys(redis, keyPrefix);
      await redis.close();
      const db = new pg.Client({ connectionString: postgresTestUrl });
      await db.connect();
      await db.query(`drop schema if exists ${schema} cascade`);
      await db.end();
    });

    const open = async (gatewayUrl: string, email: string) => {
      const client = createClient({
        url: `${gatewayUrl.replace(/^http/, "ws")}/ws`,
        token: await signIn(gatewayUrl, email),
        WebSocket,
        callTimeoutMs: 30_000,
      });
      clients.push(client);
      return client;
    };

    test("a command sent to gateway 1 reaches a subscriber on gateway 2, and gateway 2's queries see it", async () => {
      const ana = await open(gateway1, "ana@acme.test");
      const ben = await open(gateway2, "ben@acme.test");
      const { projectId } = await ana.service(DispatchCommandService).createProject({ name: "Harbour run" });

      const received: string[] = [];
      let subscribed = false;
      ben.subscribe(`project:${projectId}`, {
        onSubscribed: () => (subscribed = true),
        onPublication: ({ event }) => {
          if (isMessage(event, OrderCreatedSchema)) received.push(event.orderId);
        },
      });
      await eventually("ben is subscribed on gateway 2", () => subscribed);

      const { orderId } = await ana
        .service(DispatchCommandService)
        .createOrder({ projectId, consignee: "Cleo", address: "Quay 3", weightKg: 40 });
      await eventually("the OrderCreated reached ben on gateway 2", () => received.includes(orderId));

      // The projector follows the log on its own: until it has, the board may not know the project.
      await eventually("gateway 2's order board shows the order", async () => {
        const board = await ben
          .service(DispatchQueryService)
          .getOrderBoard({ projectId })
          .catch((error: unknown) => {
            if (error instanceof RpcError && error.code === ErrorCode.NOT_FOUND) return undefined;
            throw error;
          });
        return board?.orders.some((order) => order.orderId === orderId && order.consignee === "Cleo") ?? false;
      });
      assert.deepEqual(received, [orderId], "the order's event arrived once");
    });
  },
);
