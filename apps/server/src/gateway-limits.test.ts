// The source gateway's limits on a real server over real sockets: heartbeats, slow consumers and
// rate limits (session expiry, in-band re-authentication and the drain: gateway-lifecycle.test.ts).
// Each describe block starts its own server with the limits it needs, kept small so the tests are
// quick; tests wait on frames and closes, never on the clock.
//
// Not here: callTimeoutMs. In the embedded shape a call never yields to the timers phase (PGlite
// answers through microtasks), so even a 1 ms timeout cannot fire before the call finishes; a test
// would need a method that waits on a macrotask, which the server does not have.
import { create } from "@bufbuild/protobuf";
import { anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import { CreateOrderRequestSchema, CreateOrderResponseSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { ListProjectsRequestSchema, ProjectListSchema } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import type { Publication, Reply, StreamPosition, Subscribed } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { ErrorCode } from "@sluice/contracts/gen/sluice/v1/errors_pb";
import { CloseCode } from "@sluice/protocol";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { RunningServer } from "./server";
import { RawClient, signIn, testServer } from "./test-support";

const CREATE_ORDER = "dispatch.v1.DispatchCommandService/CreateOrder";
const LIST_PROJECTS = "dispatch.v1.DispatchQueryService/ListProjects";
const SOME_UUID = "00000000-0000-4000-8000-000000000000";

async function connect(server: RunningServer, email: string, subprotocol?: string): Promise<RawClient> {
  const client = await RawClient.connect(server.url, await signIn(server.url, email), subprotocol);
  await client.next("connected");
  return client;
}

async function subscribe(client: RawClient, channel: string, since?: StreamPosition): Promise<Subscribed> {
  const reply = await subscribeReply(client, channel, since);
  if (reply.outcome.case !== "subscribed") throw new Error(`subscribe to ${channel} failed: ${reply.outcome.case}`);
  return reply.outcome.value;
}

async function subscribeReply(client: RawClient, channel: string, since?: StreamPosition): Promise<Reply> {
  const id = client.id();
  client.send({ kind: { case: "subscribe", value: { id, channel, since, presence: false } } });
  return client.next("reply", (r) => r.id === id);
}

function errorOf(reply: Reply) {
  assert.equal(reply.outcome.case, "error", `expected an error reply, got ${reply.outcome.case}`);
  return reply.outcome.case === "error" ? reply.outcome.value : undefined!;
}

async function firstProject(client: RawClient): Promise<string> {
  const projects = await client.result(LIST_PROJECTS, ListProjectsRequestSchema, ProjectListSchema, {});
  return projects.projects[0]!.projectId;
}

function listProjectsCall(id: number) {
  return {
    kind: {
      case: "call" as const,
      value: {
        id,
        method: LIST_PROJECTS,
        request: anyPack(ListProjectsRequestSchema, create(ListProjectsRequestSchema)),
      },
    },
  };
}

async function closesWith(server: RunningServer, code: number): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`sluice_gateway_closes_total{code="${code}"}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

describe("heartbeats", () => {
  const pingIntervalMs = 200;
  let server: RunningServer;
  before(async () => {
    server = await testServer({ gatewayLimits: { pingIntervalMs } });
  });
  after(() => server.close());

  test("a socket that never answers pings is closed with IDLE_TIMEOUT; one that answers stays open", async () => {
    const silent = await connect(server, "ana@acme.test");
    const alive = await connect(server, "ben@acme.test");
    alive.answerPings();

    const disconnect = await silent.next("disconnect");
    assert.equal(disconnect.code, CloseCode.IDLE_TIMEOUT.code);
    assert.equal(disconnect.reconnect, true);
    assert.equal((await silent.closed).code, CloseCode.IDLE_TIMEOUT.code);
    // The silent one was pinged before it was dropped.
    assert.ok(silent.frames.some((f) => f.kind.case === "ping"));

    // Over the same period and two more intervals the answering socket was pinged and kept.
    for (let i = 0; i < 3; i++) await alive.next("ping");
    await alive.roundTrip();
    assert.ok(!alive.frames.some((f) => f.kind.case === "disconnect"));
    await alive.close();
  });
});

describe("slow consumers", () => {
  const maxBufferedBytes = 256 * 1024;
  let server: RunningServer;
  before(async () => {
    server = await testServer({ gatewayLimits: { maxBufferedBytes, callBurst: 100_000, callsPerSecond: 100_000 } });
  });
  after(() => server.close());

  test("a socket that stops reading is closed with SLOW_CONSUMER; the others get every publication", async () => {
    const ana = await connect(server, "ana@acme.test");
    const vera = await connect(server, "vera@acme.test");
    const ben = await connect(server, "ben@acme.test");
    const projectId = await firstProject(ana);
    const channel = `project:${projectId}`;
    const watched = await subscribe(vera, channel);
    const start = (await subscribe(ben, channel)).position!;

    const created: string[] = [];
    const createOrder = async (consignee: string, address: string) => {
      const { orderId } = await ana.result(CREATE_ORDER, CreateOrderRequestSchema, CreateOrderResponseSchema, {
        projectId,
        consignee,
        address,
        weightKg: 1,
      });
      created.push(orderId);
      return orderId;
    };
    // Publications of about 3 KB each (the longest fields, four bytes a character), kept as history.
    let last = "";
    for (let i = 0; i < 20; i++) last = await createOrder("🚚".repeat(200), "📦".repeat(500));
    await ben.next("publication", (p) => anyUnpack(p.event!, OrderCreatedSchema)?.orderId === last);

    // Ben stops reading. The kernel's socket buffers take megabytes before the server's own send
    // buffer grows, so besides the live publications Ben asks, again and again, for the channel's
    // history (about 60 KB a reply) until the server gives up on him.
    (ben.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    for (let round = 0; (await closesWith(server, CloseCode.SLOW_CONSUMER.code)) === 0; round++) {
      assert.ok(round < 2000, "the server never closed the slow consumer");
      await createOrder(`live ${round}`, "Hafenstrasse 1, Hamburg");
      for (let i = 0; i < 10; i++) {
        ben.send({ kind: { case: "unsubscribe", value: { id: ben.id(), channel } } });
        ben.send({ kind: { case: "subscribe", value: { id: ben.id(), channel, since: start, presence: false } } });
      }
    }
    // Publications keep flowing to the others after the slow one is gone.
    for (let i = 0; i < 3; i++) await createOrder(`after ${i}`, "Hafenstrasse 1, Hamburg");

    // Reading again, Ben finds the backlog, then the Disconnect frame and the close.
    (ben.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    const disconnect = await ben.next("disconnect", () => true, 30_000);
    assert.equal(disconnect.code, CloseCode.SLOW_CONSUMER.code);
    assert.equal(disconnect.reconnect, true);
    assert.equal((await ben.closed).code, CloseCode.SLOW_CONSUMER.code);

    // Vera got every publication, each once, in offset order, none missing.
    const received: Publication[] = [];
    while (received.length < created.length)
      received.push(await vera.next("publication", (p) => p.channel === channel));
    assert.deepEqual(
      received.map((p) => anyUnpack(p.event!, OrderCreatedSchema)?.orderId),
      created,
    );
    assert.deepEqual(
      received.map((p) => p.offset),
      created.map((_, i) => watched.position!.offset + BigInt(i + 1)),
    );
    await vera.roundTrip();
    assert.ok(!vera.frames.some((f) => f.kind.case === "publication"));
    await ana.close();
    await vera.close();
  });
});

describe("rate limits", () => {
  const callBurst = 5;
  const callsPerSecond = 20;
  const maxSubscriptions = 2;
  let server: RunningServer;
  before(async () => {
    server = await testServer({ gatewayLimits: { callBurst, callsPerSecond, maxSubscriptions } });
  });
  after(() => server.close());

  test("calls beyond the burst get RATE_LIMITED, each call exactly one reply, and the socket stays usable", async () => {
    const client = await connect(server, "ana@acme.test");
    const ids = Array.from({ length: 3 * callBurst }, () => client.id());
    for (const id of ids) client.send(listProjectsCall(id));
    const replies: Reply[] = [];
    for (const id of ids) replies.push(await client.next("reply", (r) => r.id === id));

    const ok = replies.filter((r) => r.outcome.case === "result");
    const limited = replies.filter(
      (r) => r.outcome.case === "error" && r.outcome.value.code === ErrorCode.RATE_LIMITED,
    );
    assert.equal(ok.length + limited.length, ids.length, "every reply is a result or RATE_LIMITED");
    assert.ok(ok.length >= callBurst, `at least the burst went through (${ok.length})`);
    assert.ok(limited.length >= 1, "some calls were refused");
    for (const reply of limited) assert.equal(errorOf(reply).retriable, true);

    // After the bucket refills, calls go through again (the client backs off as told).
    let reply: Reply;
    do {
      await new Promise((resolve) => setTimeout(resolve, 1000 / callsPerSecond));
      reply = await client.call(LIST_PROJECTS, ListProjectsRequestSchema, {});
    } while (reply.outcome.case === "error" && reply.outcome.value.code === ErrorCode.RATE_LIMITED);
    assert.equal(reply.outcome.case, "result");
    // No call got a second reply.
    await client.roundTrip();
    assert.ok(!client.frames.some((f) => f.kind.case === "reply"));
    await client.close();
  });

  test("subscriptions beyond maxSubscriptions are refused with RATE_LIMITED; leaving one makes room", async () => {
    const client = await connect(server, "ana@acme.test");
    await subscribe(client, "org");
    await subscribe(client, `project:${SOME_UUID}`);
    const refused = errorOf(await subscribeReply(client, `route:${SOME_UUID}`));
    assert.equal(refused.code, ErrorCode.RATE_LIMITED);

    const id = client.id();
    client.send({ kind: { case: "unsubscribe", value: { id, channel: "org" } } });
    assert.equal((await client.next("reply", (r) => r.id === id)).outcome.case, "unsubscribed");
    await subscribe(client, `route:${SOME_UUID}`);
    await client.close();
  });
});
