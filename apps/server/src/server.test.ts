import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import { CreateOrderRequestSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { ListProjectsRequestSchema, ProjectListSchema } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { CreateOrderResponseSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import type { StreamPosition, Subscribed } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { ClientFrameSchema } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { ErrorCode, FieldViolationsSchema } from "@sluice/contracts/gen/sluice/v1/errors_pb";
import { CloseCode, DEFAULT_MAX_FRAME_BYTES, JSON_SUBPROTOCOL } from "@sluice/protocol";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { WebSocket } from "ws";
import type { RunningServer } from "./server";
import { RawClient, signIn, testServer } from "./test-support";

const CREATE_ORDER = "dispatch.v1.DispatchCommandService/CreateOrder";
const LIST_PROJECTS = "dispatch.v1.DispatchQueryService/ListProjects";

// One server for the whole file: starting PGlite is the slow part.
let server: RunningServer;
before(async () => {
  server = await testServer();
});
after(() => server.close());

describe("the wire protocol on /ws", () => {
  let token: string;
  let healthy: RawClient;

  before(async () => {
    token = await signIn(server.url, "ana@acme.test");
    healthy = await RawClient.connect(server.url, token);
  });

  after(async () => {
    // The healthy socket kept working through every violation of its neighbours.
    const projects = await healthy.result(LIST_PROJECTS, ListProjectsRequestSchema, ProjectListSchema, {});
    assert.ok(projects.projects.length >= 1);
    await healthy.close();
  });

  test("closes a socket without a session with UNAUTHENTICATED before any frame", async () => {
    for (const headers of [{}, { authorization: "Bearer not-a-token" }]) {
      const outcome = await new Promise<{ code: number; frames: number }>((resolve) => {
        let frames = 0;
        const socket = new WebSocket(`${server.url.replace("http", "ws")}/ws`, "sluice.v1.proto", { headers });
        socket.on("message", () => frames++);
        socket.on("close", (code) => resolve({ code, frames }));
        socket.on("error", () => {});
      });
      assert.deepEqual(outcome, { code: CloseCode.UNAUTHENTICATED.code, frames: 0 });
    }
  });

  test("sends Connected first, naming the user and organization from the session", async () => {
    const client = await RawClient.connect(server.url, token);
    const first = await client.next("connected");
    assert.equal(client.frames.length, 0);
    assert.ok(first.userId && first.organizationId && first.clientId);
    assert.equal(first.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES);
    assert.ok(first.sessionExpiresAt > BigInt(Date.now()));
    await client.close();
  });

  for (const [name, bytes] of [
    ["garbage bytes", new Uint8Array([0xff, 0xff, 0xff, 0xff])],
    [
      "a truncated protobuf frame",
      toBinary(
        ClientFrameSchema,
        create(ClientFrameSchema, {
          kind: {
            case: "call",
            value: {
              id: 1,
              method: LIST_PROJECTS,
              request: anyPack(ListProjectsRequestSchema, create(ListProjectsRequestSchema)),
            },
          },
        }),
      ).slice(0, -5),
    ],
    ["an oversized frame", new Uint8Array(DEFAULT_MAX_FRAME_BYTES + 1)],
    ["an empty frame of no known kind", new Uint8Array(0)],
  ] as const) {
    test(`closes the socket with PROTOCOL_VIOLATION on ${name}, after a Disconnect frame`, async () => {
      const client = await RawClient.connect(server.url, token);
      await client.next("connected");
      client.sendRaw(bytes);
      const disconnect = await client.next("disconnect");
      assert.equal(disconnect.code, CloseCode.PROTOCOL_VIOLATION.code);
      assert.equal(disconnect.reconnect, false);
      assert.equal((await client.closed).code, CloseCode.PROTOCOL_VIOLATION.code);
    });
  }

  test("answers an unknown method with UNKNOWN_METHOD", async () => {
    const reply = await healthy.call("dispatch.v1.DispatchCommandService/LaunchRocket", ListProjectsRequestSchema, {});
    assert.equal(reply.outcome.case, "error");
    assert.equal(
      reply.outcome.value?.$typeName === "sluice.v1.Error" && reply.outcome.value.code,
      ErrorCode.UNKNOWN_METHOD,
    );
  });

  test("answers a request of the wrong message type with INVALID_ARGUMENT", async () => {
    const reply = await healthy.call(CREATE_ORDER, ListProjectsRequestSchema, {});
    assert.equal(reply.outcome.case, "error");
    assert.equal(reply.outcome.case === "error" && reply.outcome.value.code, ErrorCode.INVALID_ARGUMENT);
  });

  test("answers a request breaking its validation rules with INVALID_ARGUMENT and field violations", async () => {
    const reply = await healthy.call(CREATE_ORDER, CreateOrderRequestSchema, {
      projectId: "not-a-uuid",
      consignee: "",
      address: "Main St 1",
      weightKg: -1,
    });
    assert.equal(reply.outcome.case, "error");
    if (reply.outcome.case !== "error") return;
    assert.equal(reply.outcome.value.code, ErrorCode.INVALID_ARGUMENT);
    const violations = anyUnpack(reply.outcome.value.details[0]!, FieldViolationsSchema);
    const fields = violations?.violations.map((v) => v.field).sort();
    assert.deepEqual(fields, ["consignee", "project_id", "weight_kg"]);
  });

  test("answers a call id already in flight with DUPLICATE_CALL_ID, and the first call still gets its reply", async () => {
    const client = await RawClient.connect(server.url, token);
    const frame = {
      kind: {
        case: "call" as const,
        value: {
          id: 7,
          method: LIST_PROJECTS,
          request: anyPack(ListProjectsRequestSchema, create(ListProjectsRequestSchema)),
        },
      },
    };
    client.send(frame);
    client.send(frame);
    const replies = [await client.next("reply"), await client.next("reply")];
    assert.deepEqual(replies.map((r) => r.outcome.case).sort(), ["error", "result"]);
    const error = replies.find((r) => r.outcome.case === "error")!;
    assert.equal(error.outcome.case === "error" && error.outcome.value.code, ErrorCode.DUPLICATE_CALL_ID);
    await client.close();
  });

  test("refuses a command to a viewer with PERMISSION_DENIED", async () => {
    const viewer = await RawClient.connect(server.url, await signIn(server.url, "vera@acme.test"));
    const reply = await viewer.call(CREATE_ORDER, CreateOrderRequestSchema, {
      projectId: "00000000-0000-4000-8000-000000000000",
      consignee: "Someone",
      address: "Main St 1",
      weightKg: 10,
    });
    assert.equal(reply.outcome.case === "error" && reply.outcome.value.code, ErrorCode.PERMISSION_DENIED);
    await viewer.close();
  });

  test("refuses a subscription to a channel name outside the protocol", async () => {
    const id = healthy.id();
    healthy.send({ kind: { case: "subscribe", value: { id, channel: "someone-else/org" } } });
    const reply = await healthy.next("reply", (r) => r.id === id);
    assert.equal(reply.outcome.case === "error" && reply.outcome.value.code, ErrorCode.INVALID_ARGUMENT);
  });

  test("speaks the JSON mapping on sluice.v1.json, and answers Ping with Pong", async () => {
    const client = await RawClient.connect(server.url, token, JSON_SUBPROTOCOL);
    assert.equal(client.socket.protocol, JSON_SUBPROTOCOL);
    await client.next("connected");
    client.sendRaw(JSON.stringify({ ping: {} }));
    await client.next("pong");
    const projects = await client.result(LIST_PROJECTS, ListProjectsRequestSchema, ProjectListSchema, {});
    assert.ok(projects.projects.length >= 1);
    client.sendRaw("{ not json");
    assert.equal((await client.closed).code, CloseCode.PROTOCOL_VIOLATION.code);
  });
});

async function subscribe(
  client: RawClient,
  channel: string,
  options: { since?: StreamPosition; presence?: boolean } = {},
): Promise<Subscribed> {
  const id = client.id();
  client.send({
    kind: { case: "subscribe", value: { id, channel, since: options.since, presence: options.presence ?? false } },
  });
  const reply = await client.next("reply", (r) => r.id === id);
  if (reply.outcome.case !== "subscribed")
    throw new Error(
      `subscribe to ${channel} failed: ${reply.outcome.case === "error" ? reply.outcome.value.message : reply.outcome.case}`,
    );
  return reply.outcome.value;
}

describe("real time between two dispatchers", () => {
  let ana: RawClient;
  let ben: RawClient;
  let projectId: string;

  before(async () => {
    ana = await RawClient.connect(server.url, await signIn(server.url, "ana@acme.test"));
    ben = await RawClient.connect(server.url, await signIn(server.url, "ben@acme.test"));
    const projects = await ana.result(LIST_PROJECTS, ListProjectsRequestSchema, ProjectListSchema, {});
    projectId = projects.projects[0]!.projectId;
  });

  after(async () => {
    await ana.close();
    await ben.close();
  });

  const createOrder = (consignee: string) =>
    ana.result(CREATE_ORDER, CreateOrderRequestSchema, CreateOrderResponseSchema, {
      projectId,
      consignee,
      address: "Hafenstrasse 1, Hamburg",
      weightKg: 120,
    });

  test("an order one creates reaches the other on the project's channel", async () => {
    const channel = `project:${projectId}`;
    const subscribed = await subscribe(ben, channel);
    assert.equal(subscribed.recovered, false);
    const { orderId } = await createOrder("Ben's first sighting");
    const publication = await ben.next("publication", (p) => p.channel === channel);
    const event = anyUnpack(publication.event!, OrderCreatedSchema);
    assert.equal(event?.orderId, orderId);
    assert.equal(event?.consignee, "Ben's first sighting");
    assert.equal(publication.offset, subscribed.position!.offset + 1n);
    assert.equal(publication.epoch, subscribed.position!.epoch);
    assert.ok(publication.metadata?.userId);
  });

  test("a client back from a disconnect gets exactly the publications it missed, in order", async () => {
    const channel = `project:${projectId}`;
    const watcher = await RawClient.connect(server.url, await signIn(server.url, "vera@acme.test"));
    await subscribe(watcher, channel);
    const leaving = await RawClient.connect(server.url, await signIn(server.url, "ben@acme.test"));
    const position = (await subscribe(leaving, channel)).position!;
    await leaving.close();

    const missed = [await createOrder("missed one"), await createOrder("missed two")].map((r) => r.orderId);
    // The watcher seeing both means the sink has published them.
    await watcher.next("publication", (p) => anyUnpack(p.event!, OrderCreatedSchema)?.orderId === missed[1]);

    const back = await RawClient.connect(server.url, await signIn(server.url, "ben@acme.test"));
    const recovered = await subscribe(back, channel, { since: position });
    assert.equal(recovered.recovered, true);
    assert.deepEqual(
      recovered.publications.map((p) => anyUnpack(p.event!, OrderCreatedSchema)?.orderId),
      missed,
    );
    assert.deepEqual(
      recovered.publications.map((p) => p.offset),
      [position.offset + 1n, position.offset + 2n],
    );
    assert.equal(recovered.position!.offset, position.offset + 2n);

    // A position from another epoch cannot be recovered: the client is told to refetch. What the
    // channel's epoch now carried came after that one was lost: handed on whole, none trimmed yet.
    const late = await RawClient.connect(server.url, await signIn(server.url, "ben@acme.test"));
    const stale = await subscribe(late, channel, {
      since: { $typeName: "sluice.v1.StreamPosition", offset: 1n, epoch: "gone" },
    });
    assert.equal(stale.recovered, false);
    assert.deepEqual(
      stale.publications.map((p) => [p.offset, p.epoch]),
      Array.from({ length: Number(stale.position!.offset) }, (_, i) => [BigInt(i + 1), stale.position!.epoch]),
    );
    await late.close();
    await back.close();
    await watcher.close();
  });

  test("presence: members per user, join and leave told to the others", async () => {
    const channel = "org";
    const first = await subscribe(ana, channel, { presence: true });
    assert.deepEqual(
      first.presence.map((m) => m.userId),
      [first.presence[0]!.userId],
    );
    const benSocket = await RawClient.connect(server.url, await signIn(server.url, "ben@acme.test"));
    const second = await subscribe(benSocket, channel, { presence: true });
    assert.equal(second.presence.length, 2);
    const joined = await ana.next("presenceChange", (c) => c.channel === channel && c.joined);
    assert.equal(joined.member?.displayName, "Ben Brandt");
    await benSocket.close();
    const left = await ana.next("presenceChange", (c) => c.channel === channel && !c.joined);
    assert.equal(left.member?.userId, joined.member?.userId);
  });

  test("presence: subscribe, unsubscribe and subscribe again in one breath leave the user present", async () => {
    const channel = `project:${projectId}`;
    const firstId = ana.id();
    ana.send({ kind: { case: "subscribe", value: { id: firstId, channel, presence: true } } });
    ana.send({ kind: { case: "unsubscribe", value: { id: ana.id(), channel } } });
    const again = await subscribe(ana, channel, { presence: true });
    assert.equal(again.presence.length, 1);
    const observer = await RawClient.connect(server.url, await signIn(server.url, "ben@acme.test"));
    const seen = await subscribe(observer, channel, { presence: true });
    assert.deepEqual(seen.presence.map((member) => member.displayName).sort(), ["Ana Alvarez", "Ben Brandt"]);
    await observer.close();
  });
});
