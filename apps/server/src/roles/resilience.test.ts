// The scale-out shape when its processes fail, in the middle of a stream of commands: each role
// killed with -9 and started again; each stopped with SIGTERM while a new one takes over; Redis out
// of reach for a while, then killed and started again empty. Roles are child processes
// (roles/testing.ts) on the machine's Kafka and PostgreSQL and on a redis-server of this test's own.
// Clients reach the source gateways through a TCP balancer each, so a client whose gateway dies
// reconnects to the other one.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { DescMessage, DescMethodUnary, MessageShape } from "@bufbuild/protobuf";
import {
  ErrorCode,
  RpcError,
  type CallOptions,
  type Publication,
  type SluiceClient,
  type SubscribedInfo,
} from "@sluice/client-sdk";
import { PrivateRedis, privateRedisSkip } from "@sluice/broker/testing";
import { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { DispatchQueryService } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { protobufCodec } from "@sluice/protocol";
import { WebSocket, type RawData } from "ws";
import { signIn } from "../test-support";
import type { RoleName } from "./config";
import {
  Balancer,
  eventually,
  killRole,
  scaleOutTestSkip,
  ScaleOutDeployment,
  stopRole,
  type RoleProcess,
  type RoleSpec,
} from "./testing";

const skip = (await scaleOutTestSkip()) || privateRedisSkip();

/**
 * A `ws` WebSocket that also notes, per socket, the call ids the server replied to: a second reply
 * to one id is a double reply (the SDK would drop it silently).
 */
function replyCountingWebSocket(doubleReplies: number[]) {
  return class extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      const replied = new Set<number>();
      this.on("message", (data: RawData) => {
        const bytes =
          data instanceof ArrayBuffer
            ? new Uint8Array(data)
            : Array.isArray(data)
              ? Buffer.concat(data)
              : (data as Buffer);
        const frame = protobufCodec.decodeServer(bytes);
        if (frame.kind.case !== "reply") return;
        if (replied.has(frame.kind.value.id)) doubleReplies.push(frame.kind.value.id);
        replied.add(frame.kind.value.id);
      });
    }
  };
}

/** One client subscribed to a channel, with everything the channel told it, in order. */
class Watcher {
  readonly heard: Array<{ publication: Publication } | { subscribed: SubscribedInfo }> = [];
  /** Why the subscription ended, if the server refused it. */
  readonly errors: Error[] = [];
  #waiting: (() => void) | undefined;

  constructor(
    readonly name: string,
    readonly client: SluiceClient,
    readonly channel: string,
  ) {
    client.subscribe(channel, {
      onSubscribed: (subscribed) => this.heard.push({ subscribed }),
      onPublication: (publication) => {
        this.heard.push({ publication });
        this.#waiting?.();
        this.#waiting = undefined;
      },
      onError: (error) => this.errors.push(error),
    });
  }

  get received(): Publication[] {
    return this.heard.flatMap((heard) => ("publication" in heard ? [heard.publication] : []));
  }

  get subscribed(): boolean {
    return this.heard.some((heard) => "subscribed" in heard);
  }

  /** Confirmations after the first that said publications were missed (recovered: false): the app refetched. */
  get refetches(): number {
    const confirmations = this.heard.flatMap((heard) => ("subscribed" in heard ? [heard.subscribed] : []));
    return confirmations.slice(1).filter((info) => !info.recovered).length;
  }

  /** Resolves as the next publication arrives, in the same turn of the event loop. */
  nextPublication(): Promise<void> {
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  /** How many publications caused by the command with this idempotency key arrived. */
  count(commandId: string): number {
    return this.received.filter((p) => p.metadata?.commandId === commandId).length;
  }

  /**
   * No event twice, each stream's events in their order, and each publication at the offset after
   * the one before, in its epoch, unless the client was told in between that it missed some
   * (recovered: false, after which it refetched).
   */
  assertInOrderOnce(): void {
    assert.deepEqual(
      this.errors.map((error) => error.message),
      [],
      `${this.name}'s subscription was never refused`,
    );
    const ids = this.received.map((p) => p.metadata?.eventId);
    assert.equal(new Set(ids).size, ids.length, `${this.name} got no event twice`);
    const versions = new Map<string, bigint>();
    let previous: Publication | undefined;
    for (const heard of this.heard) {
      if ("subscribed" in heard) {
        if (!heard.subscribed.recovered) previous = undefined;
        continue;
      }
      const { publication } = heard;
      if (previous) {
        assert.deepEqual(
          [publication.epoch, publication.offset],
          [previous.epoch, previous.offset + 1n],
          `${this.name}'s publications follow each other on the channel`,
        );
      }
      previous = publication;
      const { metadata } = publication;
      assert.ok(metadata, "every publication carries its event's metadata");
      assert.ok((versions.get(metadata.streamId) ?? 0n) < metadata.streamVersion, `${metadata.streamId} in order`);
      versions.set(metadata.streamId, metadata.streamVersion);
    }
  }
}

interface SentCommand {
  readonly idempotencyKey: string;
  readonly method: string;
  /** The retriable errors its attempts ended with before the one that succeeded. */
  readonly errors: RpcError[];
}

/**
 * Commands from one client, the way an app sends them: each with its idempotency key, tried again
 * with the same key after a retriable error. Workers each create an order and then edit it, again
 * and again until told to stop. Anything but a response or a retriable RpcError fails the test.
 */
class CommandStream {
  readonly commands: SentCommand[] = [];
  /** Orders created, with the consignee their last edit gave them. */
  readonly orders = new Map<string, string>();
  /** Attempts sent and not settled yet, and commands answered. */
  inFlight = 0;
  acked = 0;
  error: unknown;
  #running: Promise<void>[] = [];
  #next = 0;
  #answered: (() => void) | undefined;

  constructor(
    readonly client: SluiceClient,
    readonly projectId: string,
  ) {}

  /** Starts `workers` loops that run until `stop()` holds. */
  start(stop: () => boolean, workers = 2): void {
    const worker = async () => {
      while (!stop() && this.error === undefined) await this.#order();
    };
    this.#track(Promise.all(Array.from({ length: workers }, worker)));
  }

  /** `count` more orders at once, besides the workers': commands that pile up together. */
  burst(count: number): void {
    this.#track(Promise.all(Array.from({ length: count }, () => this.#order())));
  }

  /** Resolves once every worker and burst stopped; throws what failed one. */
  async finished(): Promise<void> {
    await Promise.all(this.#running);
    if (this.error !== undefined) throw this.error;
  }

  /** Creates an order, then edits it. */
  async #order(): Promise<void> {
    const n = this.#next++;
    const commands = this.client.service(DispatchCommandService);
    const { orderId } = await this.#send(DispatchCommandService.method.createOrder, (options) =>
      commands.createOrder({ projectId: this.projectId, consignee: `c${n}`, address: "Quay 1", weightKg: 10 }, options),
    );
    this.orders.set(orderId, `c${n}`);
    await this.#send(DispatchCommandService.method.editOrder, (options) =>
      commands.editOrder({ orderId, consignee: `c${n} edited` }, options),
    );
    this.orders.set(orderId, `c${n} edited`);
  }

  #track(running: Promise<unknown>): void {
    this.#running.push(
      running.then(
        () => undefined,
        (error: unknown) => void (this.error ??= error),
      ),
    );
  }

  /** Resolves as the next command is answered, in the same turn of the event loop. */
  nextAnswer(): Promise<void> {
    return new Promise((resolve) => (this.#answered = resolve));
  }

  /** Resolves once `count` more commands than now were answered; throws what failed the stream. */
  async answered(count: number): Promise<void> {
    const target = this.acked + count;
    await eventually(`${count} more commands answered`, () => {
      if (this.error !== undefined) throw this.error;
      return this.acked >= target;
    });
  }

  async #send<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    call: (options: CallOptions) => Promise<MessageShape<O>>,
  ): Promise<MessageShape<O>> {
    const sent: SentCommand = { idempotencyKey: randomUUID(), method: method.name, errors: [] };
    this.commands.push(sent);
    const giveUpAt = Date.now() + 90_000;
    for (;;) {
      this.inFlight++;
      try {
        const response = await call({ idempotencyKey: sent.idempotencyKey });
        this.inFlight--;
        this.acked++;
        this.#answered?.();
        this.#answered = undefined;
        return response;
      } catch (error) {
        this.inFlight--;
        if (!(error instanceof RpcError) || !error.retriable) throw error;
        sent.errors.push(error);
        if (Date.now() > giveUpAt) throw error;
        // An app's retry backs off too; this one need not be long.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
}

describe(
  "the scale-out shape through crashes, restarts and drains of its processes",
  { skip, timeout: 300_000 },
  () => {
    let redis: PrivateRedis;
    let deployment: ScaleOutDeployment;
    /** The processes serving now, by role; source gateway 1 and 2 by name. */
    const current = new Map<string, RoleProcess & { url: string }>();
    const specs: Record<string, RoleSpec> = {};
    let balancer1: Balancer;
    let balancer2: Balancer;
    const doubleReplies: number[] = [];
    let ana: SluiceClient;
    let ben: SluiceClient;

    /** Points each balancer at its own gateway first, then at the other; leaves out any named. */
    const route = (...without: string[]) => {
      const url = (name: string) => (without.includes(name) ? [] : [current.get(name)!.url]);
      balancer1.backends = [...url("source gateway 1"), ...url("source gateway 2")];
      balancer2.backends = [...url("source gateway 2"), ...url("source gateway 1")];
    };

    /** Starts the role serving as `name` (in place of the one serving now, if any). */
    const start = async (name: string, env: NodeJS.ProcessEnv = {}) => {
      const spec = specs[name]!;
      const started = await deployment.start({ ...spec, env: { ...spec.env, ...env } });
      current.set(name, started);
      return started;
    };

    before(async () => {
      redis = await PrivateRedis.start();
      deployment = new ScaleOutDeployment({
        redisUrl: redis.url,
        // The broker's least: a killed member's partitions move after 6 s.
        env: { KAFKA_SESSION_TIMEOUT_MS: "6000" },
      });
      const spec = (role: RoleName, name: string, env?: NodeJS.ProcessEnv) => (specs[name] = { role, name, env });
      spec("domain-service", "domain service");
      spec("projector", "projector");
      spec("sink-gateway", "sink gateway");
      // Fixed gateway ids: a gateway started again reads the replies topic of the one killed.
      spec("source-gateway", "source gateway 1", { GATEWAY_ID: deployment.gatewayId("gw1") });
      spec("source-gateway", "source gateway 2", { GATEWAY_ID: deployment.gatewayId("gw2") });

      // All at once: migrations take turns (an advisory lock), topics are created by whoever comes first.
      await Promise.all([deployment.seed(), ...Object.keys(specs).map((name) => start(name))]);
      balancer1 = await Balancer.start([]);
      balancer2 = await Balancer.start([]);
      route();
      const options = {
        WebSocket: replyCountingWebSocket(doubleReplies),
        // Back quickly when a gateway dies: the default backoff is made for a million clients.
        reconnect: { minDelayMs: 50, maxDelayMs: 500 },
        callTimeoutMs: 15_000,
        signInUrl: current.get("source gateway 1")!.url,
      };
      ana = await deployment.client(balancer1.url, "ana@acme.test", options);
      ben = await deployment.client(balancer2.url, "ben@acme.test", options);
    });

    after(async () => {
      await deployment?.cleanUp();
      await balancer1?.close();
      await balancer2?.close();
      await redis?.kill();
    });

    /** A project of its own, watched by ana (gateway 1) and ben (gateway 2), and ana's commands on it. */
    async function scenario() {
      const { projectId } = await ana.service(DispatchCommandService).createProject({ name: `Run ${randomUUID()}` });
      const channel = `project:${projectId}`;
      const watchers = [new Watcher("ana", ana, channel), new Watcher("ben", ben, channel)];
      await eventually("ana and ben are subscribed", () => watchers.every((w) => w.subscribed));
      return { projectId, watchers, stream: new CommandStream(ana, projectId) };
    }
    type Scenario = Awaited<ReturnType<typeof scenario>>;

    /** Until every watcher holds the event of each of the commands. */
    const delivered = (watchers: readonly Watcher[], commands: readonly SentCommand[]) =>
      Promise.all(
        watchers.map((watcher) =>
          eventually(`${watcher.name} holds the event of every command`, () => {
            if (watcher.errors.length > 0)
              throw new Error(`${watcher.name}'s subscription ended: ${watcher.errors[0]}`);
            return commands.every((command) => watcher.count(command.idempotencyKey) > 0);
          }),
        ),
      );

    /** The read model holds every order as its last edit left it, once; no call was answered twice. */
    async function assertReadModelAndReplies({ projectId, stream }: Scenario) {
      await eventually("the order board holds every order as last edited, once", async () => {
        const board = await ben.service(DispatchQueryService).getOrderBoard({ projectId });
        return (
          board.orders.length === stream.orders.size &&
          board.orders.every((order) => stream.orders.get(order.orderId) === order.consignee)
        );
      });
      assert.deepEqual(doubleReplies, [], "no call was answered twice");
    }

    /**
     * Every watcher holding each command's event exactly once, at consecutive offsets, each stream's
     * events in their order, and never told it missed any; the read model and replies as above.
     */
    async function assertNothingLostOrRepeated(run: Scenario) {
      await delivered(run.watchers, run.stream.commands);
      for (const watcher of run.watchers) {
        watcher.assertInOrderOnce();
        for (const command of run.stream.commands) {
          assert.equal(watcher.count(command.idempotencyKey), 1, `${watcher.name} got ${command.method} once`);
        }
        assert.equal(watcher.refetches, 0, `${watcher.name} recovered every time it subscribed again`);
      }
      await assertReadModelAndReplies(run);
    }

    /** How many attempts of the stream's commands failed (retriably: anything else failed the stream), and why. */
    const retried = (stream: CommandStream) => {
      const codes = new Map<string, number>();
      for (const { errors } of stream.commands) {
        for (const error of errors) codes.set(ErrorCode[error.code]!, (codes.get(ErrorCode[error.code]!) ?? 0) + 1);
      }
      return `${[...codes.values()].reduce((a, b) => a + b, 0)} retried ${JSON.stringify(Object.fromEntries(codes))}`;
    };

    const roles = ["domain service", "projector", "sink gateway", "source gateway 1"];

    for (const name of roles) {
      test(`kill -9 of the ${name} in the middle of a command stream, then a restart: nothing lost, nothing twice`, async () => {
        const run = await scenario();
        const { stream } = run;
        let restarted = false;
        let answeredAtRestart = 0;
        stream.start(() => restarted && stream.acked >= answeredAtRestart + 6);
        await stream.answered(6);
        const role = current.get(name)!;
        // The sink gateway and the domain service are killed in the middle of a batch: stopped
        // (SIGSTOP, shorter than a session timeout) while a burst of commands, or their events,
        // pile up for them, let go on (SIGCONT) and killed at the first sign of their work on
        // the batch, their offsets not committed yet: what they did, their successor does again.
        // (The burst's orders are created one after another: one aggregate, the project.)
        const pileUp = {
          "sink gateway": async () => {
            stream.burst(20);
            await stream.answered(40);
            return { working: run.watchers[1]!.nextPublication() };
          },
          "domain service": async () => {
            stream.burst(20);
            await eventually("the burst in flight", () => stream.inFlight >= 20);
            return { working: stream.nextAnswer() };
          },
        }[name];
        if (pileUp) {
          role.child.kill("SIGSTOP");
          const { working } = await pileUp();
          role.child.kill("SIGCONT");
          await working;
        }
        await killRole(role);
        if (name.startsWith("source gateway")) route(name);
        await start(name);
        route();
        answeredAtRestart = stream.acked;
        restarted = true;
        await stream.finished();
        await assertNothingLostOrRepeated(run);
        console.log(`${name} killed: ${stream.commands.length} commands, ${retried(stream)}`);
      });
    }

    test("SIGTERM of each role in the middle of a command stream, a new one of each started first: each drains and exits 0, no command fails, nothing lost, nothing twice", async () => {
      const run = await scenario();
      const { stream } = run;
      let stopped = false;
      let answeredAtStop = 0;
      stream.start(() => stopped && stream.acked >= answeredAtStop + 6);
      await stream.answered(6);
      const old = roles.map((name) => current.get(name)!);
      // As an orchestrator replaces a process: the new one first, the old one out of the balancers
      // (its /readyz says 503 once it drains), then SIGTERM. Two gateways must not share an id.
      await Promise.all(
        roles.map((name) =>
          start(
            name,
            name.startsWith("source gateway") ? { GATEWAY_ID: deployment.gatewayId(`gw-${randomUUID()}`) } : {},
          ),
        ),
      );
      route();
      for (const [i, name] of roles.entries()) {
        await stream.answered(2);
        assert.equal(await stopRole(old[i]!), 0, `the old ${name} drained and exited 0`);
        assert.match(old[i]!.output.join(""), /SIGTERM: draining and stopping/);
      }
      answeredAtStop = stream.acked;
      stopped = true;
      await stream.finished();
      await assertNothingLostOrRepeated(run);
      // Replacing the domain service rebalances the command consumers twice (one joins, one
      // leaves); a command that sat in a partition meanwhile can outlive its reply deadline under
      // load (CI saw it once) and is sent again with its key, so it runs once. Any other retriable
      // error is a drain that failed a command.
      const deadlinePassed = (error: RpcError) =>
        error.code === ErrorCode.UNAVAILABLE && error.message.includes("no reply within");
      assert.deepEqual(
        stream.commands.flatMap((command) =>
          command.errors
            .filter((error) => !deadlinePassed(error))
            .map((error) => `${command.method}: ${error.message}`),
        ),
        [],
        "no command failed, but for a reply deadline during a rebalance",
      );
      console.log(`each role stopped: ${stream.commands.length} commands, ${retried(stream)}`);
    });

    test("Redis out of reach for a while under load, its data kept: nothing lost, nothing twice, nothing to refetch", async () => {
      const run = await scenario();
      const { stream } = run;
      let back = false;
      let answeredWhenBack = 0;
      stream.start(() => back && stream.acked >= answeredWhenBack + 6);
      await stream.answered(6);
      const sink = current.get("sink gateway")!;
      const before = sink.output.join("").length;
      // Signed in before: sign-in counts attempts in Redis, so it answers 503 while Redis is away.
      const token = await signIn(current.get("source gateway 2")!.url, "ben@acme.test");
      await redis.unreachable();
      const refusedSignIn = await fetch(`${current.get("source gateway 2")!.url}/auth/signin`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "ben@acme.test", password: "dispatch" }),
      });
      assert.equal(refusedSignIn.status, 503, "sign-in is refused while its counters are out of reach");
      // A client subscribing meanwhile (one whose gateway died would, too): refused for now.
      const late = new Watcher(
        "ben's second client",
        await deployment.client(balancer2.url, "ben@acme.test", { token }),
        run.watchers[0]!.channel,
      );
      // Commands go on (Kafka, PostgreSQL); their events cannot be published until Redis is back.
      await eventually("the sink gateway failed to publish", () =>
        sink.output.join("").slice(before).includes("publishing failed"),
      );
      await redis.reachable();
      answeredWhenBack = stream.acked;
      back = true;
      await stream.finished();
      await assertNothingLostOrRepeated(run);
      // The refused subscription was tried again, and is live.
      await eventually("the late subscription is confirmed", () => {
        if (late.errors.length > 0) throw new Error(`the late subscription ended: ${late.errors[0]}`);
        return late.subscribed;
      });
      const tail = new CommandStream(ana, run.projectId);
      tail.start(() => tail.acked >= 2);
      await tail.finished();
      await delivered([...run.watchers, late], tail.commands);
      late.assertInOrderOnce();
      console.log(`Redis out of reach: ${stream.commands.length} commands, ${retried(stream)}`);
    });

    test("Redis killed and started again empty under load: a client gets every event once, or is told it missed some and refetches", async () => {
      const run = await scenario();
      const { stream, watchers, projectId } = run;
      let restarted = false;
      let answeredAtRestart = 0;
      stream.start(() => restarted && stream.acked >= answeredAtRestart + 6);
      await stream.answered(6);
      await redis.restart();
      answeredAtRestart = stream.acked;
      restarted = true;
      await stream.finished();

      // Live again, through the Redis started anew: later commands reach everyone once, in order.
      const tail = new CommandStream(ana, projectId);
      tail.start(() => tail.acked >= 4);
      await tail.finished();
      await delivered(watchers, tail.commands);
      for (const watcher of watchers) {
        watcher.assertInOrderOnce();
        for (const command of [...stream.commands, ...tail.commands]) {
          assert.ok(watcher.count(command.idempotencyKey) <= 1, `${watcher.name} got ${command.method} once at most`);
        }
        for (const command of tail.commands) {
          assert.equal(watcher.count(command.idempotencyKey), 1, `${watcher.name} got ${command.method} after`);
        }
        const missed = stream.commands.filter((command) => watcher.count(command.idempotencyKey) === 0);
        assert.ok(
          missed.length === 0 || watcher.refetches > 0,
          `${watcher.name} missed ${missed.length} events without being told`,
        );
        // Channels' positions and history died with Redis: the watcher's first publication of the
        // new epoch made its subscription read the channel again, and hear recovered: false.
        assert.ok(watcher.refetches > 0, `${watcher.name} was told the channel's history is gone`);
      }
      // What a watcher missed, the refetch it was told to do shows: the read model has every order.
      for (const [orderId, consignee] of tail.orders) stream.orders.set(orderId, consignee);
      await assertReadModelAndReplies(run);
      const missed = watchers.map(
        (w) => stream.commands.filter((command) => w.count(command.idempotencyKey) === 0).length,
      );
      console.log(
        `Redis restarted: ${stream.commands.length} commands, ${retried(stream)}; events missed then refetched: ${missed.join(", ")}`,
      );
    });
  },
);
