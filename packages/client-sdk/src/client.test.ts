import { describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { create, isMessage } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import {
  CreateOrderResponseSchema,
  DispatchCommandService,
  type CreateOrderResponse,
} from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import {
  DispatchQueryService,
  ProjectListSchema,
  type ProjectList,
} from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { ErrorCode as ErrorCodeEnum, RuleViolationSchema } from "@sluice/contracts/gen/sluice/v1/errors_pb";
import { CloseCode } from "@sluice/protocol";
import { WebSocket } from "ws";
import { createClient, ErrorCode, RpcError, type ClientOptions, type Publication, type SluiceClient } from "./index";
import { startScriptedServer, type ScriptedConnection, type ScriptedServer } from "./scripted-server";

const projectId = "0b8e1c1e-8d2f-4c55-9a57-8f9e4d1f0a01";
const fast = { minDelayMs: 5, maxDelayMs: 20 };

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(condition(), `timed out waiting for ${what}`);
}

function orderCreated(orderId: string) {
  return anyPack(OrderCreatedSchema, create(OrderCreatedSchema, { orderId, projectId }));
}

function publish(connection: ScriptedConnection, offset: bigint, orderId: string, epoch = "e1", eventId?: string) {
  connection.send({
    kind: {
      case: "publication",
      value: { channel: "org", offset, epoch, event: orderCreated(orderId), ...(eventId && { metadata: { eventId } }) },
    },
  });
}

/** The server's confirmation of a subscription to "org": its position, and the publications it carries. */
function confirm(
  connection: ScriptedConnection,
  id: number,
  position: { offset: bigint; epoch: string },
  recovered: boolean,
  publications: ReadonlyArray<{ offset: bigint; epoch: string; orderId: string; eventId?: string }> = [],
) {
  connection.send({
    kind: {
      case: "reply",
      value: {
        id,
        outcome: {
          case: "subscribed",
          value: {
            channel: "org",
            position,
            recovered,
            publications: publications.map(({ offset, epoch, orderId, eventId }) => ({
              channel: "org",
              offset,
              epoch,
              event: orderCreated(orderId),
              ...(eventId && { metadata: { eventId } }),
            })),
          },
        },
      },
    },
  });
}

/** Subscribes to "org" and notes, in order, each confirmation and each publication's position. */
function hear(client: SluiceClient): string[] {
  const heard: string[] = [];
  client.subscribe("org", {
    onPublication: (p) => heard.push(`${p.epoch}:${p.offset}`),
    onSubscribed: (info) => heard.push(`subscribed recovered=${info.recovered}`),
  });
  return heard;
}

/** A scripted server of its own for each test, and one client on it; both closed after the test. */
async function harness(
  t: TestContext,
  options: Partial<ClientOptions> = {},
): Promise<{ server: ScriptedServer; client: SluiceClient }> {
  const server = await startScriptedServer();
  const client = createClient({ url: server.url, WebSocket, reconnect: fast, ...options });
  t.after(async () => {
    await client.close();
    await server.close();
  });
  return { server, client };
}

describe("SluiceClient against a scripted server", () => {
  test("calls wait for Connected, carry an idempotency key when they are commands, and resolve typed", async (t) => {
    const { server, client } = await harness(t, { token: "t0k3n" });
    const conn = await server.connection(0);
    assert.equal(conn.headers.authorization, "Bearer t0k3n");
    const created = client
      .service(DispatchCommandService)
      .createOrder({ projectId, consignee: "Ana", address: "Main St 1", weightKg: 3 });
    const listed = client.service(DispatchQueryService).listProjects({});
    assert.equal(client.state, "connecting");
    conn.connected();
    const command = await conn.next("call");
    const query = await conn.next("call");
    assert.equal(command.method, "dispatch.v1.DispatchCommandService/CreateOrder");
    assert.match(command.idempotencyKey, /^[0-9a-f-]{36}$/);
    assert.equal(query.idempotencyKey, "", "queries carry no key");
    conn.send({
      kind: {
        case: "reply",
        value: {
          id: query.id,
          outcome: { case: "result", value: anyPack(ProjectListSchema, create(ProjectListSchema)) },
        },
      },
    });
    const response = create(CreateOrderResponseSchema, { orderId: "o-1" });
    conn.send({
      kind: {
        case: "reply",
        value: { id: command.id, outcome: { case: "result", value: anyPack(CreateOrderResponseSchema, response) } },
      },
    });
    assert.equal((await created).orderId, "o-1");
    assert.deepEqual((await listed).projects, []);
    assert.equal(client.state, "connected");
    assert.equal(client.session?.userId, "u1");
  });

  test("an Error reply rejects with RpcError and its details; a late reply after a timeout is ignored", async (t) => {
    const { server, client } = await harness(t);
    const conn = await server.connection(0);
    conn.connected();
    const refused = client.service(DispatchCommandService).createProject({ name: "x" });
    const call = await conn.next("call");
    const detail = anyPack(
      RuleViolationSchema,
      create(RuleViolationSchema, { rule: "project.name_taken", message: "taken" }),
    );
    conn.send({
      kind: {
        case: "reply",
        value: {
          id: call.id,
          outcome: {
            case: "error",
            value: { code: ErrorCodeEnum.FAILED_PRECONDITION, message: "taken", details: [detail] },
          },
        },
      },
    });
    const error = await refused.then(
      () => assert.fail("should reject"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, ErrorCode.FAILED_PRECONDITION);
    assert.ok(isMessage(error.details[0], RuleViolationSchema));

    const slow = client.service(DispatchQueryService).listProjects({}, { timeoutMs: 30 });
    const slowCall = await conn.next("call");
    await assert.rejects(slow, (e: unknown) => e instanceof RpcError && e.code === ErrorCode.TIMEOUT);
    conn.send({
      kind: {
        case: "reply",
        value: {
          id: slowCall.id,
          outcome: { case: "result", value: anyPack(ProjectListSchema, create(ProjectListSchema)) },
        },
      },
    });
    // The client still works after the stray reply.
    const again = client.service(DispatchQueryService).listProjects({});
    const againCall = await conn.next("call");
    conn.send({
      kind: {
        case: "reply",
        value: {
          id: againCall.id,
          outcome: { case: "result", value: anyPack(ProjectListSchema, create(ProjectListSchema)) },
        },
      },
    });
    await again;
  });

  test("a command in flight when the socket drops is sent once more, with the same key", async (t) => {
    const { server, client } = await harness(t);
    const first = await server.connection(0);
    first.connected();
    const result = client
      .service(DispatchCommandService)
      .createProject({ name: "Harbour" }, { idempotencyKey: "key-1" });
    const sent = await first.next("call");
    first.socket.terminate();
    const second = await server.connection(1);
    assert.equal(second.count("call"), 0, "nothing is sent before Connected");
    second.connected();
    const resent = await second.next("call");
    assert.equal(resent.idempotencyKey, "key-1");
    assert.equal(resent.method, sent.method);
    second.socket.terminate();
    // A second drop ends it: one resend only.
    await assert.rejects(result, (e: unknown) => e instanceof RpcError && e.code === ErrorCode.UNAVAILABLE);
    const third = await server.connection(2);
    third.connected();
    await waitFor(() => client.state === "connected", "reconnect");
    assert.equal(third.count("call"), 0);
  });

  test("after a reconnect: resubscribe from the last position, recovered ones in order before live ones, no duplicates", async (t) => {
    const { server, client } = await harness(t);
    const index = 0;
    const first = await server.connection(index);
    first.connected();
    const seen: Publication[] = [];
    const confirmations: boolean[] = [];
    client.subscribe("org", {
      onPublication: (p) => seen.push(p),
      onSubscribed: (info) => confirmations.push(info.recovered),
    });
    const subscribe = await first.next("subscribe");
    assert.equal(subscribe.since, undefined);
    first.send({
      kind: {
        case: "reply",
        value: {
          id: subscribe.id,
          outcome: { case: "subscribed", value: { channel: "org", position: { offset: 0n, epoch: "e1" } } },
        },
      },
    });
    publish(first, 1n, "a");
    publish(first, 2n, "b");
    publish(first, 2n, "b"); // duplicate
    await waitFor(() => seen.length === 2, "two publications");
    first.socket.terminate();

    const second = await server.connection(index + 1);
    second.connected();
    const resubscribe = await second.next("subscribe");
    assert.deepEqual(
      { offset: resubscribe.since?.offset, epoch: resubscribe.since?.epoch },
      { offset: 2n, epoch: "e1" },
    );
    publish(second, 5n, "e"); // live, before the Subscribed reply: held back
    const recovered = [2n, 3n, 4n].map((offset) => ({
      channel: "org",
      offset,
      epoch: "e1",
      event: orderCreated(`r${offset}`),
    }));
    second.send({
      kind: {
        case: "reply",
        value: {
          id: resubscribe.id,
          outcome: {
            case: "subscribed",
            value: { channel: "org", position: { offset: 4n, epoch: "e1" }, recovered: true, publications: recovered },
          },
        },
      },
    });
    publish(second, 4n, "d-again");
    publish(second, 6n, "f");
    await waitFor(() => seen.length === 6, "six publications");
    assert.deepEqual(
      seen.map((p) => p.offset),
      [1n, 2n, 3n, 4n, 5n, 6n],
    );
    assert.ok(seen.every((p) => isMessage(p.event, OrderCreatedSchema)));
    assert.deepEqual(confirmations, [false, true]);

    // A gap the server cannot fill: recovered false, and the cursor moves to the server's position.
    second.socket.terminate();
    const third = await server.connection(index + 2);
    third.connected();
    const again = await third.next("subscribe");
    assert.equal(again.since?.offset, 6n);
    third.send({
      kind: {
        case: "reply",
        value: {
          id: again.id,
          outcome: {
            case: "subscribed",
            value: { channel: "org", position: { offset: 1n, epoch: "e2" }, recovered: false },
          },
        },
      },
    });
    publish(third, 2n, "g", "e2");
    await waitFor(() => seen.length === 7, "a publication of the new epoch");
    assert.deepEqual(confirmations, [false, true, false]);
  });

  test("a publication lost on its way: the client reads the channel again from its position, no gap and no reconnect", async (t) => {
    const { server, client } = await harness(t);
    const connection = await server.connection(0);
    connection.connected();
    const seen: bigint[] = [];
    const confirmations: boolean[] = [];
    client.subscribe("org", {
      onPublication: (p) => seen.push(p.offset),
      onSubscribed: (info) => confirmations.push(info.recovered),
    });
    const subscribed = (id: number, offset: bigint, recovered = false, publications: bigint[] = []) =>
      confirm(
        connection,
        id,
        { offset, epoch: "e1" },
        recovered,
        publications.map((o) => ({ offset: o, epoch: "e1", orderId: `r${o}` })),
      );
    subscribed((await connection.next("subscribe")).id, 0n);
    publish(connection, 1n, "a");
    publish(connection, 3n, "c"); // 2 never arrives
    publish(connection, 4n, "d");
    const leave = await connection.next("unsubscribe");
    assert.equal(leave.channel, "org");
    const again = await connection.next("subscribe");
    assert.deepEqual({ offset: again.since?.offset, epoch: again.since?.epoch }, { offset: 1n, epoch: "e1" });
    subscribed(again.id, 4n, true, [2n, 3n, 4n]);
    publish(connection, 5n, "e");
    await waitFor(() => seen.length === 5, "five publications");
    assert.deepEqual(seen, [1n, 2n, 3n, 4n, 5n]);
    assert.deepEqual(confirmations, [false, true]);

    // Beyond what the server keeps: recovered false, and the listener refetches.
    publish(connection, 9n, "i");
    const third = await connection.next("subscribe");
    assert.equal(third.since?.offset, 5n);
    subscribed(third.id, 9n, false);
    publish(connection, 10n, "j");
    await waitFor(() => seen.length === 6, "the publication after the refetch");
    assert.deepEqual(seen.slice(5), [10n]);
    assert.deepEqual(confirmations, [false, true, false]);
    assert.equal(connection.socket.readyState, WebSocket.OPEN, "the same socket throughout");
  });

  test("a publication of a new epoch (the server lost the channel's history): the client reads the channel again and is told to refetch", async (t) => {
    const { server, client } = await harness(t);
    const connection = await server.connection(0);
    connection.connected();
    const seen: Array<[bigint, string]> = [];
    const confirmations: boolean[] = [];
    client.subscribe("org", {
      onPublication: (p) => seen.push([p.offset, p.epoch]),
      onSubscribed: (info) => confirmations.push(info.recovered),
    });
    const subscribed = (id: number, offset: bigint, epoch: string, recovered: boolean) =>
      connection.send({
        kind: {
          case: "reply",
          value: {
            id,
            outcome: { case: "subscribed", value: { channel: "org", position: { offset, epoch }, recovered } },
          },
        },
      });
    subscribed((await connection.next("subscribe")).id, 0n, "e1", false);
    publish(connection, 1n, "a");
    publish(connection, 2n, "b");
    // Redis restarted empty: 1 of e2 went out while this edge was not listening yet.
    publish(connection, 2n, "d", "e2");
    await connection.next("unsubscribe");
    const again = await connection.next("subscribe");
    assert.deepEqual({ offset: again.since?.offset, epoch: again.since?.epoch }, { offset: 2n, epoch: "e1" });
    publish(connection, 1n, "stale", "e1"); // from before the loss, arriving late: held, then dropped
    subscribed(again.id, 2n, "e2", false);
    publish(connection, 3n, "e", "e2");
    await waitFor(() => seen.length === 3, "the publication after the refetch");
    assert.deepEqual(seen, [
      [1n, "e1"],
      [2n, "e1"],
      [3n, "e2"],
    ]);
    assert.deepEqual(confirmations, [false, false], "told to refetch, not handed 2 of e2 as if nothing was missed");
  });

  test("told to refetch after the channel's history was lost, the client still gets each publication of the new epoch the server holds, once", async (t) => {
    const { server, client } = await harness(t);
    const connection = await server.connection(0);
    connection.connected();
    const heard = hear(client);
    const subscribed = (id: number, position: bigint, publications: bigint[]) =>
      confirm(
        connection,
        id,
        { offset: position, epoch: publications.length ? "e2" : "e1" },
        false,
        publications.map((offset) => ({ offset, epoch: "e2", orderId: `o${offset}` })),
      );
    subscribed((await connection.next("subscribe")).id, 0n, []);
    publish(connection, 1n, "a");
    // Redis restarted empty; the sink published its backlog at once, 1 of e2 before this edge
    // listened again. 2 tells the client; 3 and 4 (later commands) go out before its
    // subscription reads the channel again, so the server's position covers them.
    publish(connection, 2n, "b", "e2");
    await connection.next("unsubscribe");
    const again = await connection.next("subscribe");
    assert.deepEqual({ offset: again.since?.offset, epoch: again.since?.epoch }, { offset: 1n, epoch: "e1" });
    publish(connection, 3n, "c", "e2");
    publish(connection, 4n, "d", "e2");
    subscribed(again.id, 4n, [1n, 2n, 3n, 4n]);
    publish(connection, 5n, "e", "e2");
    await waitFor(() => heard.includes("e2:5"), "the live publication after the confirmation");
    assert.deepEqual(heard, [
      "subscribed recovered=false",
      "e1:1",
      "subscribed recovered=false",
      "e2:1",
      "e2:2",
      "e2:3",
      "e2:4",
      "e2:5",
    ]);
  });

  test("StateLost (Redis lost the channel's state, nothing published since): the client reads the channel again from its position and is told to refetch, once", async (t) => {
    const { server, client } = await harness(t);
    const connection = await server.connection(0);
    connection.connected();
    const heard = hear(client);
    confirm(connection, (await connection.next("subscribe")).id, { offset: 0n, epoch: "e1" }, false);
    publish(connection, 1n, "a");
    publish(connection, 2n, "b");
    const stateLost = () =>
      connection.send({ kind: { case: "stateLost", value: { channel: "org", reason: "the server lost its state" } } });
    stateLost();
    await connection.next("unsubscribe");
    const again = await connection.next("subscribe");
    assert.deepEqual({ offset: again.since?.offset, epoch: again.since?.epoch }, { offset: 2n, epoch: "e1" });
    // Told again while that subscribe is on its way (another edge's word on the same loss): its
    // answer is read after the loss, so nothing more is sent.
    stateLost();
    // A frame for a channel the client does not hold changes nothing.
    connection.send({ kind: { case: "stateLost", value: { channel: `project:${projectId}`, reason: "" } } });
    confirm(connection, again.id, { offset: 1n, epoch: "e2" }, false, [{ offset: 1n, epoch: "e2", orderId: "c" }]);
    publish(connection, 2n, "d", "e2");
    await waitFor(() => heard.includes("e2:2"), "the live publication after the confirmation");
    assert.deepEqual(heard, [
      "subscribed recovered=false",
      "e1:1",
      "e1:2",
      "subscribed recovered=false",
      "e2:1",
      "e2:2",
    ]);
    // Frames leave the client in order: any further read of "org" would come before this one.
    client.subscribe(`project:${projectId}`, { onPublication: () => {} });
    assert.equal((await connection.next("subscribe")).channel, `project:${projectId}`, "org read again once");
    assert.equal(connection.count("unsubscribe"), 0);
  });

  test("an event published again under a new position (after Redis lost the channel) reaches the app once", async (t) => {
    const { server, client } = await harness(t);
    const connection = await server.connection(0);
    connection.connected();
    const heard = hear(client);
    confirm(connection, (await connection.next("subscribe")).id, { offset: 0n, epoch: "e1" }, false);
    publish(connection, 1n, "a", "e1", "event-a");
    // Redis restarted empty and the sink relayed event a again (at least once), now 1 of e2.
    publish(connection, 1n, "a", "e2", "event-a");
    await connection.next("unsubscribe");
    const again = await connection.next("subscribe");
    confirm(connection, again.id, { offset: 2n, epoch: "e2" }, false, [
      { offset: 1n, epoch: "e2", orderId: "a", eventId: "event-a" },
      { offset: 2n, epoch: "e2", orderId: "b", eventId: "event-b" },
    ]);
    publish(connection, 3n, "c", "e2", "event-c");
    await waitFor(() => heard.includes("e2:3"), "the live publication after the confirmation");
    assert.deepEqual(heard, ["subscribed recovered=false", "e1:1", "subscribed recovered=false", "e2:2", "e2:3"]);
  });

  test("a subscription the server cannot take just now (retriable) is sent again after a backoff; a refusal ends it", async (t) => {
    const { server, client } = await harness(t);
    const connection = await server.connection(0);
    connection.connected();
    const confirmations: boolean[] = [];
    const errors: Error[] = [];
    const listener = {
      onPublication: () => {},
      onSubscribed: (info: { recovered: boolean }) => confirmations.push(info.recovered),
      onError: (error: Error) => errors.push(error),
    };
    const refuse = (id: number, code: ErrorCodeEnum, retriable: boolean) =>
      connection.send({
        kind: { case: "reply", value: { id, outcome: { case: "error", value: { code, message: "no", retriable } } } },
      });
    client.subscribe("org", listener);
    // The gateway's broker is out of reach: UNAVAILABLE, retriable, twice.
    refuse((await connection.next("subscribe")).id, ErrorCodeEnum.UNAVAILABLE, true);
    refuse((await connection.next("subscribe")).id, ErrorCodeEnum.UNAVAILABLE, true);
    const third = await connection.next("subscribe");
    connection.send({
      kind: {
        case: "reply",
        value: {
          id: third.id,
          outcome: { case: "subscribed", value: { channel: "org", position: { offset: 3n, epoch: "e1" } } },
        },
      },
    });
    await waitFor(() => confirmations.length === 1, "the subscription confirmed");
    assert.equal(errors.length, 0, "nothing told of the retries");

    client.subscribe("project:p", listener);
    refuse((await connection.next("subscribe")).id, ErrorCodeEnum.PERMISSION_DENIED, false);
    await waitFor(() => errors.length === 1, "the refusal told");
    assert.ok(errors[0] instanceof RpcError && errors[0].code === ErrorCode.PERMISSION_DENIED);
  });

  test("UNAUTHENTICATED closes for good and surfaces the reason; reconnect() tries again", async (t) => {
    const { server, client } = await harness(t);
    const index = 0;
    const conn = await server.connection(index);
    conn.connected();
    await waitFor(() => client.state === "connected", "connected");
    conn.socket.close(CloseCode.UNAUTHENTICATED.code, "the session expired");
    await waitFor(() => client.state === "closed", "closed");
    assert.deepEqual(client.status.error, { code: CloseCode.UNAUTHENTICATED.code, reason: "the session expired" });
    await assert.rejects(
      client.service(DispatchQueryService).listProjects({}),
      (e: unknown) => e instanceof RpcError && e.code === ErrorCode.UNAUTHENTICATED,
    );
    client.reconnect();
    const next = await server.connection(index + 1);
    next.connected();
    await waitFor(() => client.state === "connected", "connected again");
  });

  test("answers pings, and a server silent for two ping intervals counts as gone", async (t) => {
    const { server, client } = await harness(t);
    const index = 0;
    const conn = await server.connection(index);
    conn.connected(20);
    conn.send({ kind: { case: "ping", value: {} } });
    await conn.next("pong");
    await conn.next("ping"); // the client's own heartbeat
    // Say nothing more: the client must give up on this socket and open another.
    const next = await server.connection(index + 1);
    next.connected();
    await waitFor(() => client.state === "connected", "connected again");
  });
});

// Compile-time only: the types of calls flow from the generated descriptors.
export function typedFromTheContract(client: SluiceClient): void {
  const byDescriptor: Promise<ProjectList> = client.call(DispatchQueryService.method.listProjects, {});
  const byProxy: Promise<CreateOrderResponse> = client
    .service(DispatchCommandService)
    .createOrder({ projectId, consignee: "Ana", address: "Main St 1", weightKg: 1 });
  // @ts-expect-error: weightKg is a number in the contract
  void client.service(DispatchCommandService).createOrder({ projectId, weightKg: "heavy" });
  void byDescriptor;
  void byProxy;
}
