// For the roles' tests only: a scale-out deployment whose every role is a child process started the
// way an operator starts it (`tsx roles/main.ts <role>`, configured by the environment) on the
// machine's Kafka, Redis and PostgreSQL, with a schema, topic prefix and Redis key prefix of its own;
// clients of it; a TCP balancer in front of the gateways.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { redisReachable } from "@sluice/broker";
import {
  deleteTestKeys,
  endsWithThisProcess,
  openTestRedis,
  redisTestSkip,
  redisTestUrl,
  testKeyPrefix,
} from "@sluice/broker/testing";
import { commandsTopic, eventsTopic, repliesTopic } from "@sluice/bus/kafka";
import { createClient, type ClientOptions, type SluiceClient } from "@sluice/client-sdk";
import { postgresTestUrl, testBackends } from "@sluice/database/testing";
import { deleteTopics } from "@sluice/kafka";
import { kafkaTestBrokers, kafkaTestConnection, kafkaTestSkip } from "@sluice/kafka/testing";
import pg from "pg";
import { WebSocket } from "ws";
import { signIn } from "../test-support";
import type { RoleName } from "./config";

const main = fileURLToPath(new URL("./main.ts", import.meta.url));
const root = fileURLToPath(new URL("../../../../", import.meta.url));

/** A reason to skip a scale-out suite: only when Kafka, Redis or PostgreSQL is unreachable and CI is not "true". */
export async function scaleOutTestSkip(): Promise<string | false> {
  const postgres = (await testBackends()).find((backend) => backend.name === "postgres")!.skip;
  return (await kafkaTestSkip()) || (await redisTestSkip()) || postgres;
}

/** Resolves once `condition` holds; fails naming `what` after timeoutMs. */
export async function eventually(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface RoleProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly output: string[];
  /** Resolves with the URL the role printed once ready. */
  readonly ready: Promise<string>;
  /** Resolves with the exit code, or the signal that ended it. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
}

/** Starts `roles/main.ts <args>` as a child process with the environment given. */
export function runRole(args: readonly string[], name: string, env: NodeJS.ProcessEnv): RoleProcess {
  const child = endsWithThisProcess(
    spawn(process.execPath, ["--import", "tsx", main, ...args], {
      cwd: root,
      env: { ...process.env, ...env, NODE_ENV: "production" },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  const output: string[] = [];
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal)),
  );
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (data: Buffer) => {
      output.push(data.toString());
      const match = / ready at (http:\/\/\S+)/.exec(output.join(""));
      if (match) resolve(match[1]!);
    });
    child.stderr!.on("data", (data: Buffer) => output.push(data.toString()));
    void exited.then((code) => reject(new Error(`${name} exited (${code}) before it was ready:\n${output.join("")}`)));
  });
  ready.catch(() => undefined);
  return { name, child, output, ready, exited };
}

const running = (role: RoleProcess) => role.child.exitCode === null && role.child.signalCode === null;

/** SIGTERM (the role drains), SIGKILL if it has not exited after 20 s; resolves with how it ended. */
export async function stopRole(role: RoleProcess): Promise<number | NodeJS.Signals | null> {
  if (running(role)) role.child.kill("SIGTERM");
  const timer = setTimeout(() => role.child.kill("SIGKILL"), 20_000);
  const code = await role.exited;
  clearTimeout(timer);
  return code;
}

/** kill -9: the role gets no chance to finish anything. */
export async function killRole(role: RoleProcess): Promise<void> {
  if (running(role)) role.child.kill("SIGKILL");
  await role.exited;
}

/** What a role of the deployment is started as: its name in main.ts, and what the test calls it. */
export interface RoleSpec {
  readonly role: RoleName;
  readonly name: string;
  /** Added to the deployment's environment, e.g. { GATEWAY_ID }. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The environment and resources of one deployment of the scale-out shape: a fresh schema, topic
 * prefix and key prefix; every process it started, stopped and cleaned up after.
 */
export class ScaleOutDeployment {
  readonly id = randomBytes(5).toString("hex");
  readonly schema = `scale_out_${this.id}`;
  readonly topicPrefix = `test-${this.id}.`;
  readonly keyPrefix = testKeyPrefix();
  readonly redisUrl: string;
  readonly env: NodeJS.ProcessEnv;
  readonly processes: RoleProcess[] = [];
  readonly #gatewayIds = new Set<string>();
  readonly #clients: SluiceClient[] = [];

  constructor(options: { redisUrl?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.redisUrl = options.redisUrl ?? redisTestUrl;
    this.env = {
      DATABASE_URL: postgresTestUrl,
      DATABASE_SCHEMA: this.schema,
      DATABASE_MAX_CONNECTIONS: "4",
      KAFKA_BROKERS: kafkaTestBrokers.join(","),
      KAFKA_TOPIC_PREFIX: this.topicPrefix,
      KAFKA_PARTITIONS: "4",
      REDIS_URL: this.redisUrl,
      REDIS_KEY_PREFIX: this.keyPrefix,
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "warn",
      SLUICE_PERSONAL_DATA_KEY: randomBytes(32).toString("base64"),
      ...options.env,
    };
  }

  /** A gateway id of this deployment (its replies topic is deleted with the deployment). */
  gatewayId(name: string): string {
    const id = `${name}-${this.id}`;
    this.#gatewayIds.add(id);
    return id;
  }

  /** Writes the demo data; resolves once the job has exited 0. */
  async seed(): Promise<void> {
    const seed = this.#run(["seed"], "seed");
    const code = await seed.exited;
    if (code !== 0) throw new Error(`the seed failed (${code}):\n${seed.output.join("")}`);
  }

  /** Starts one role; resolves once it is ready. */
  async start(spec: RoleSpec): Promise<RoleProcess & { url: string }> {
    const role = this.#run([spec.role], spec.name, spec.env);
    return Object.assign(role, { url: await role.ready });
  }

  /**
   * A client of the gateway at `url` (or a balancer in front of it), signed in as `email` on
   * `signInUrl`, or with the `token` given (signed in earlier: sign-in needs Redis, docs/identity.md).
   */
  async client(url: string, email: string, options: Partial<ClientOptions> & { signInUrl?: string } = {}) {
    const { signInUrl = url, token, ...rest } = options;
    const client = createClient({
      url: `${url.replace(/^http/, "ws")}/ws`,
      token: token ?? (await signIn(signInUrl, email)),
      WebSocket,
      callTimeoutMs: 30_000,
      ...rest,
    });
    this.#clients.push(client);
    return client;
  }

  /** Closes the clients, stops every process still running, and deletes the topics, keys and schema. */
  async cleanUp(): Promise<void> {
    await Promise.all(this.#clients.map((client) => client.close()));
    await Promise.all(this.processes.map(stopRole));
    const options = { connection: kafkaTestConnection, contexts: [], topicPrefix: this.topicPrefix };
    await deleteTopics(kafkaTestConnection, [
      eventsTopic(options, "dispatch"),
      commandsTopic(options, "dispatch"),
      // A gateway killed with -9 leaves its replies topic behind.
      ...[...this.#gatewayIds].map((id) => repliesTopic(options, id)),
    ]).catch(() => undefined);
    if (await redisReachable(this.redisUrl)) {
      const redis = await openTestRedis(this.redisUrl);
      await deleteTestKeys(redis, this.keyPrefix);
      await redis.close();
    }
    const db = new pg.Client({ connectionString: postgresTestUrl });
    await db.connect();
    await db.query(`drop schema if exists ${this.schema} cascade`);
    await db.end();
  }

  #run(args: readonly string[], name: string, env: NodeJS.ProcessEnv = {}): RoleProcess {
    const role = runRole(args, name, { ...this.env, ...env });
    this.processes.push(role);
    return role;
  }
}

/**
 * A load balancer for tests: TCP on a port of its own, each connection forwarded to the first of
 * its backends that accepts it. When a backend dies, its connections close, and the clients'
 * reconnects reach the next backend: what a client behind a real balancer sees.
 */
export class Balancer {
  #backends: string[];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  url = "";

  private constructor(backends: readonly string[]) {
    this.#backends = [...backends];
    this.#server = createServer((client) => this.#forward(client));
  }

  /** `backends` are http://host:port URLs, in the order of preference. */
  static async start(backends: readonly string[]): Promise<Balancer> {
    const balancer = new Balancer(backends);
    await new Promise<void>((resolve) => balancer.#server.listen(0, "127.0.0.1", resolve));
    balancer.url = `http://127.0.0.1:${(balancer.#server.address() as { port: number }).port}`;
    return balancer;
  }

  set backends(urls: readonly string[]) {
    this.#backends = [...urls];
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #forward(client: Socket, tried = 0): void {
    this.#track(client);
    client.pause();
    const backend = this.#backends[tried];
    if (backend === undefined) return void client.destroy();
    const { hostname, port } = new URL(backend);
    const upstream = connect(Number(port), hostname);
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      this.#track(upstream);
      client.pipe(upstream).pipe(client);
      client.resume();
    });
    upstream.on("error", () => {
      if (!connected) this.#forward(client, tried + 1);
    });
    upstream.on("close", () => {
      if (connected) client.destroy();
    });
    client.on("close", () => upstream.destroy());
    client.on("error", () => upstream.destroy());
  }

  #track(socket: Socket): void {
    if (this.#sockets.has(socket)) return;
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
  }
}
