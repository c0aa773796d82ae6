// The gateway when its broker loses a channel's state, with raw sockets for clients: what a client
// in any language sees on the wire. A RedisBroker whose Redis (a private one of this test) restarts
// under it; and a MemoryBroker that tells a loss at a moment no restart can be timed to hit. Tests
// wait on frames, never on the clock.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  MemoryBroker,
  MemoryPresenceStore,
  RedisBroker,
  organizationChannel,
  type Broker,
  type BrokerListener,
  type History,
} from "@sluice/broker";
import { openTestRedis, PrivateRedis, privateRedisSkip, waitFor } from "@sluice/broker/testing";
import { Role } from "@sluice/contracts";
import {
  ClientFrameSchema,
  PublicationSchema,
  StreamPositionSchema,
  type ServerFrame,
  type StreamPosition,
  type Subscribed,
} from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { codecFor, JSON_SUBPROTOCOL, PROTOBUF_SUBPROTOCOL, type FrameCodec } from "@sluice/protocol";
import { Router, type Session } from "@sluice/rpc";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { WebSocket } from "ws";
import { SourceGateway } from "./source-gateway";

const ORGANIZATION = "org-1";
const P1 = "project:00000000-0000-4000-8000-000000000001";
const P2 = "project:00000000-0000-4000-8000-000000000002";
const quiet = { onError: () => {} };
const silentLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** A socket speaking raw frames; keeps every frame, and for JSON the text as it came. */
class RawSocket {
  readonly frames: ServerFrame[] = [];
  readonly texts: string[] = [];
  #nextId = 1;
  private constructor(
    readonly socket: WebSocket,
    readonly codec: FrameCodec,
  ) {
    socket.on("message", (data, isBinary) => {
      const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      if (!isBinary) this.texts.push(bytes.toString("utf8"));
      this.frames.push(codec.decodeServer(isBinary ? new Uint8Array(bytes) : bytes.toString("utf8")));
    });
  }

  static async open(url: string, userId: string, subprotocol: string): Promise<RawSocket> {
    const socket = new WebSocket(url, subprotocol, { headers: { authorization: `Bearer ${userId}` } });
    const raw = new RawSocket(socket, codecFor(subprotocol)!);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    await waitFor(() => raw.of("connected").length === 1, "the Connected frame");
    return raw;
  }

  of<C extends NonNullable<ServerFrame["kind"]["case"]>>(kind: C) {
    return this.frames.flatMap((f) =>
      f.kind.case === kind ? [f.kind.value as Extract<ServerFrame["kind"], { case: C }>["value"]] : [],
    );
  }

  send(frame: MessageInitShape<typeof ClientFrameSchema>): void {
    this.socket.send(this.codec.encodeClient(create(ClientFrameSchema, frame)));
  }

  async subscribe(channel: string, since?: StreamPosition): Promise<Subscribed> {
    const id = this.#nextId++;
    this.send({ kind: { case: "subscribe", value: { id, channel, since } } });
    let reply: ServerFrame["kind"] | undefined;
    await waitFor(() => {
      reply = this.frames.find((f) => f.kind.case === "reply" && f.kind.value.id === id)?.kind;
      return reply !== undefined;
    }, `the reply to subscribe ${channel}`);
    const outcome = reply?.case === "reply" ? reply.value.outcome : undefined;
    assert.equal(outcome?.case, "subscribed", `subscribe ${channel}`);
    return outcome.value as Subscribed;
  }

  /** What a client does on StateLost: subscribe again from its last position, on the same socket. */
  async resubscribe(channel: string, since: StreamPosition): Promise<Subscribed> {
    this.send({ kind: { case: "unsubscribe", value: { id: this.#nextId++, channel } } });
    return this.subscribe(channel, since);
  }
}

/** A gateway on the given broker, on a port of its own, and raw sockets to it. */
async function gatewayOn(broker: Broker) {
  const session = (userId: string): Session => ({
    sessionId: userId,
    userId,
    displayName: userId,
    organizationId: ORGANIZATION,
    role: Role.VIEWER,
    expiresAt: Date.now() + 3_600_000,
  });
  const gateway = new SourceGateway({
    router: new Router(),
    commandBus: { send: () => Promise.reject(new Error("no commands here")), close: async () => {} },
    broker,
    presence: new MemoryPresenceStore(),
    authenticate: async (headers) => session(String(headers.authorization).replace(/^Bearer /, "")),
    verifyAccessToken: () => Promise.reject(new Error("no tokens here")),
    logger: silentLogger,
  });
  const http: Server = createServer();
  gateway.attach(http);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws`;
  const sockets: RawSocket[] = [];
  return {
    async open(userId: string, subprotocol = PROTOBUF_SUBPROTOCOL) {
      const socket = await RawSocket.open(url, userId, subprotocol);
      sockets.push(socket);
      return socket;
    },
    async close() {
      for (const socket of sockets) socket.socket.terminate();
      await gateway.close();
      await new Promise((resolve) => http.close(resolve));
      await broker.close();
    },
  };
}

/** A gateway whose broker is on a private Redis, a publisher (the sink's side) on it too, and sockets. */
async function gatewayOnPrivateRedis() {
  const redis = await PrivateRedis.start();
  const settings = { url: redis.url, keyPrefix: "t:", commandTimeoutMs: 2000, ...quiet };
  const publisher = await RedisBroker.connect(settings);
  const gateway = await gatewayOn(await RedisBroker.connect(settings));
  return {
    redis,
    open: gateway.open,
    /** Publishes on a channel of the organization, retried while the publisher reconnects. */
    async publish(channel: string) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          const published = await publisher.publish(
            organizationChannel(ORGANIZATION, channel),
            create(PublicationSchema, { channel }),
          );
          assert.ok(published);
          return published;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    },
    async close() {
      await Promise.all([gateway.close(), publisher.close()]);
      await redis.kill();
    },
  };
}

/**
 * A MemoryBroker that tells its listener a loss while it reads a channel's history for a
 * subscribe: the loss a RedisBroker may find while a socket's subscribe is still recovering.
 * `lostAt` gives the loss's position from the position that read returns.
 */
class LosingWhileRecovering extends MemoryBroker {
  readonly #listeners = new Map<string, BrokerListener>();
  constructor(readonly lostAt: (read: StreamPosition) => StreamPosition) {
    super();
  }
  override async subscribe(channel: string, listener: BrokerListener): Promise<void> {
    this.#listeners.set(channel, listener);
    await super.subscribe(channel, listener);
  }
  override async history(channel: string, since?: StreamPosition): Promise<History> {
    const history = await super.history(channel, since);
    this.#listeners.get(channel)?.stateLost(channel, this.lostAt(history.position));
    return history;
  }
}

describe("SourceGateway when its broker loses a channel's state", { skip: privateRedisSkip() }, () => {
  test("Redis restarted empty: a subscribed socket is sent StateLost once, and its resubscribe hears recovered:false", async () => {
    const edge = await gatewayOnPrivateRedis();
    try {
      const ana = await edge.open("ana", JSON_SUBPROTOCOL);
      const ben = await edge.open("ben");
      await ana.subscribe(P1);
      const first = await edge.publish(P1);
      await waitFor(() => ana.of("publication").length === 1, "the first publication");

      await edge.redis.restart();
      await waitFor(() => ana.of("stateLost").length === 1, "StateLost after Redis came back");
      assert.equal(ana.of("stateLost")[0]!.channel, P1, "named as the client named the channel");
      assert.ok(
        ana.texts.some((text) => JSON.parse(text).stateLost?.channel === P1),
        "in the JSON subprotocol: {stateLost: {channel, reason}}",
      );
      assert.equal(ana.of("publication").length, 1, "told though nothing was published since");

      // Its last position: the last publication it got.
      const again = await ana.resubscribe(
        P1,
        create(StreamPositionSchema, { offset: first.offset, epoch: first.epoch }),
      );
      assert.equal(again.recovered, false, "the publications after its position cannot be recovered");
      assert.notEqual(again.position?.epoch, first.epoch, "the channel's new epoch");

      const next = await edge.publish(P1);
      await waitFor(() => ana.of("publication").length === 2, "the new epoch's first publication");
      assert.equal(ana.of("publication")[1]!.epoch, next.epoch);
      assert.equal(ana.of("stateLost").length, 1, "told once");
      assert.deepEqual(ben.of("stateLost"), [], "a socket not on the channel is told nothing");
    } finally {
      await edge.close();
    }
  });

  test("Redis restarted with its data: only the channel whose keys are gone is told, only to its sockets", async () => {
    const edge = await gatewayOnPrivateRedis();
    try {
      const ana = await edge.open("ana");
      const ben = await edge.open("ben");
      await ana.subscribe(P1);
      await ana.subscribe(P2);
      await ben.subscribe(P2);
      await edge.publish(P1);
      await edge.publish(P2);
      await waitFor(() => ana.of("publication").length === 2 && ben.of("publication").length === 1, "publications");

      const admin = await openTestRedis(edge.redis.url);
      await admin.del([`t:broker:{${ORGANIZATION}/${P1}}:meta`, `t:broker:{${ORGANIZATION}/${P1}}:history`]);
      admin.destroy();
      await edge.redis.restart({ keepData: true });
      await waitFor(() => ana.of("stateLost").length === 1, "StateLost for P1");
      assert.equal(ana.of("stateLost")[0]!.channel, P1);

      // The edge tells a loss before any publication that follows it: once P2's next publication
      // is in, a StateLost for P2 would have come first.
      await edge.publish(P2);
      await waitFor(() => ana.of("publication").length === 3 && ben.of("publication").length === 2, "P2's next");
      assert.deepEqual(
        ana.of("stateLost").map((lost) => lost.channel),
        [P1],
      );
      assert.deepEqual(ben.of("stateLost"), [], "P2 survived the restart");
    } finally {
      await edge.close();
    }
  });
});

describe("SourceGateway, a loss heard while a socket's subscribe recovers", () => {
  const scoped = organizationChannel(ORGANIZATION, P1);

  test("its reply read before the loss: StateLost follows the reply", async () => {
    const broker = new LosingWhileRecovering(() => create(StreamPositionSchema, { offset: 0n, epoch: "after" }));
    const edge = await gatewayOn(broker);
    try {
      const ana = await edge.open("ana");
      await ana.subscribe(P1);
      await waitFor(() => ana.of("stateLost").length === 1, "StateLost");
      const kinds = ana.frames.map((f) => f.kind.case);
      assert.ok(kinds.indexOf("reply") < kinds.indexOf("stateLost"), "after the reply, not before it");
    } finally {
      await edge.close();
    }
  });

  test("its reply read after the loss (at or past its position): no StateLost", async () => {
    const broker = new LosingWhileRecovering((read) => read);
    const edge = await gatewayOn(broker);
    try {
      const ana = await edge.open("ana");
      await ana.subscribe(P1);
      // A StateLost for it would come before anything published after the reply.
      await broker.publish(scoped, create(PublicationSchema, { channel: P1 }));
      await waitFor(() => ana.of("publication").length === 1, "the next publication");
      assert.deepEqual(ana.of("stateLost"), []);
    } finally {
      await edge.close();
    }
  });
});
