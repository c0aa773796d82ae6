// The client against the real embedded server: PGlite in memory, port 0, demo users signed in over REST.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { configureStore } from "@reduxjs/toolkit";
import { isMessage } from "@bufbuild/protobuf";
import { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { DispatchQueryService } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { CloseCode } from "@sluice/protocol";
import type { RunningServer } from "@sluice/server";
import { testServer } from "@sluice/server/test-support";
import { WebSocket } from "ws";
import { createClient, ErrorCode, RpcError, type ClientOptions, type SluiceClient } from "./index";
import { callActions, createSluiceMiddleware } from "./redux/index";

/** ws, remembering every socket the client opens, so a test can cut one like a network would. */
const sockets: WebSocket[] = [];
class TrackedWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    sockets.push(this);
  }
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe("client-sdk against the embedded server", () => {
  let server: RunningServer;
  let wsUrl: string;
  const tokens: Record<string, string> = {};
  const clients: SluiceClient[] = [];
  let projectId: string;

  const open = (email: string, options: Partial<ClientOptions> = {}) => {
    const client = createClient({
      url: wsUrl,
      token: tokens[email],
      WebSocket: TrackedWebSocket,
      reconnect: { minDelayMs: 20, maxDelayMs: 200 },
      ...options,
    });
    clients.push(client);
    return client;
  };

  before(async () => {
    server = await testServer();
    wsUrl = `${server.url.replace(/^http/, "ws")}/ws`;
    for (const email of ["ana@acme.test", "ben@acme.test"]) {
      const response = await fetch(`${server.url}/auth/signin`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password: "dispatch" }),
      });
      assert.equal(response.status, 200, `sign-in of ${email}`);
      tokens[email] = ((await response.json()) as { accessToken: string }).accessToken;
    }
    const setup = open("ana@acme.test");
    ({ projectId } = await setup.service(DispatchCommandService).createProject({ name: "Harbour run" }));
  });

  after(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await server.close();
  });

  test("a command by one client reaches the other's subscription", async () => {
    const ana = open("ana@acme.test");
    const ben = open("ben@acme.test");
    const received: string[] = [];
    let confirmed = false;
    ben.subscribe(`project:${projectId}`, {
      onSubscribed: () => (confirmed = true),
      onPublication: ({ event }) => {
        if (isMessage(event, OrderCreatedSchema)) received.push(event.orderId);
      },
    });
    await waitFor(() => confirmed, "ben's subscription");
    const { orderId } = await ana
      .service(DispatchCommandService)
      .createOrder({ projectId, consignee: "Cleo", address: "Quay 3", weightKg: 40 });
    await waitFor(() => received.includes(orderId), "the OrderCreated at ben");
  });

  test("a query right after a command reads that command's effect (read your writes)", async () => {
    const ana = open("ana@acme.test");
    const commands = ana.service(DispatchCommandService);
    const queries = ana.service(DispatchQueryService);
    // Each query follows its command at once, with no wait of the test's own: the read models are
    // projected after the reply, so without the query waiting for them some of these would miss.
    for (let i = 0; i < 10; i++) {
      const { routeId } = await commands.createRoute({
        projectId,
        name: `Read-your-writes ${i}`,
        vehicleCapacityKg: 500,
      });
      const sheet = await queries.getRouteSheet({ routeId });
      assert.equal(sheet.route?.name, `Read-your-writes ${i}`);
      const { orderId } = await commands.createOrder({
        projectId,
        consignee: `Ryw ${i}`,
        address: "Pier 1",
        weightKg: 5,
      });
      const board = await queries.getOrderBoard({ projectId });
      assert.ok(
        board.orders.some((order) => order.orderId === orderId),
        `order ${i} on the board`,
      );
    }
  });

  test("a client whose socket was cut receives every missed publication once, in order", async () => {
    const ana = open("ana@acme.test");
    const ben = open("ben@acme.test", { reconnect: { minDelayMs: 150, maxDelayMs: 300 } });
    const offsets: bigint[] = [];
    const received: string[] = [];
    const confirmations: boolean[] = [];
    ben.subscribe(`project:${projectId}`, {
      onSubscribed: ({ recovered }) => confirmations.push(recovered),
      onPublication: ({ offset, event }) => {
        offsets.push(offset);
        if (isMessage(event, OrderCreatedSchema)) received.push(event.orderId);
      },
    });
    await waitFor(() => confirmations.length === 1, "ben's subscription");
    const bensSocket = sockets.at(-1)!;
    bensSocket.terminate();
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { orderId } = await ana
        .service(DispatchCommandService)
        .createOrder({ projectId, consignee: `Missed ${i}`, address: "Pier 9", weightKg: 10 + i });
      created.push(orderId);
    }
    await waitFor(() => created.every((id) => received.includes(id)), "all five orders at ben");
    assert.deepEqual(received, created, "each once, in the order they were made");
    assert.deepEqual(
      [...offsets].sort((a, b) => (a < b ? -1 : 1)),
      offsets,
      "offsets ascend",
    );
    assert.equal(new Set(offsets).size, offsets.length, "no duplicates");
    assert.deepEqual(confirmations, [false, true], "resubscribed and recovered");
  });

  test("a command queued offline and cut in flight is applied once", async () => {
    const ben = open("ben@acme.test", { autoConnect: false });
    const consignee = `Once ${Date.now()}`;
    const result = ben
      .service(DispatchCommandService)
      .createOrder({ projectId, consignee, address: "Dock 1", weightKg: 5 });
    assert.equal(ben.state, "disconnected");
    // Cut the socket as soon as the queued call went out: it is resent with the same key.
    let cut = false;
    ben.onStateChange(({ state }) => {
      if (state !== "connected" || cut) return;
      cut = true;
      setImmediate(() => sockets.at(-1)!.terminate());
    });
    const socketsBefore = sockets.length;
    ben.reconnect();
    const { orderId } = await result;
    assert.ok(sockets.length > socketsBefore + 1, "the first socket was cut");
    const queries = ben.service(DispatchQueryService);
    await waitFor(
      async () => (await queries.getOrderBoard({ projectId })).orders.some((order) => order.orderId === orderId),
      "the order on the board",
    );
    const board = await queries.getOrderBoard({ projectId });
    assert.equal(board.orders.filter((order) => order.consignee === consignee).length, 1);
  });

  test("a call times out with TIMEOUT; a bad token closes the client as UNAUTHENTICATED", async () => {
    const offline = open("ben@acme.test", { autoConnect: false });
    await assert.rejects(
      offline.service(DispatchQueryService).listProjects({}, { timeoutMs: 50 }),
      (e: unknown) => e instanceof RpcError && e.code === ErrorCode.TIMEOUT,
    );
    const stranger = open("nobody", { token: "not-a-token" });
    await waitFor(() => stranger.state === "closed", "closed");
    assert.equal(stranger.status.error?.code, CloseCode.UNAUTHENTICATED.code);
  });

  test("the JSON subprotocol speaks the same calls", async () => {
    const client = open("ana@acme.test", { encoding: "json" });
    const board = await client.service(DispatchQueryService).getOrderBoard({ projectId });
    assert.equal(board.projectId, projectId);
  });

  test("Redux: a call action resolves with the JSON of the response", async () => {
    const client = open("ana@acme.test");
    const store = configureStore({
      reducer: () => null,
      middleware: (getDefault) => getDefault().concat(createSluiceMiddleware(client)),
    });
    const board = await store.dispatch(callActions(DispatchQueryService).getOrderBoard({ projectId }));
    assert.equal(board.projectId, projectId);
    assert.ok((board.orders ?? []).length >= 1);
  });
});
