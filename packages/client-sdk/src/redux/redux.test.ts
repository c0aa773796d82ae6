import { describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { configureStore, findNonSerializableValue, type UnknownAction } from "@reduxjs/toolkit";
import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema, type OrderCreatedJson } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import {
  DispatchQueryService,
  ProjectListSchema,
  type ProjectListJson,
} from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { ErrorCode } from "@sluice/contracts/gen/sluice/v1/errors_pb";
import { WebSocket } from "ws";
import { createClient } from "../client";
import { startScriptedServer } from "../scripted-server";
import { RpcError } from "@sluice/rpc";
import {
  callActions,
  callFulfilled,
  callRejected,
  connectionSlice,
  createSluiceMiddleware,
  isEvent,
  sluiceConnection,
  sluicePublication,
  sluiceSubscribe,
  sluiceSubscribed,
  sluiceUnsubscribe,
} from "./index";

const projectId = "0b8e1c1e-8d2f-4c55-9a57-8f9e4d1f0a01";
const queries = callActions(DispatchQueryService);
const commands = callActions(DispatchCommandService);

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(condition(), `timed out waiting for ${what}`);
}

describe("call action creators", () => {
  test("are plain data named by the method, typed from the contract", () => {
    const action = commands.createOrder(
      { projectId, consignee: "Ana", address: "Main St 1", weightKg: 3 },
      { idempotencyKey: "k1" },
    );
    assert.equal(action.type, "sluice/call");
    assert.equal(action.meta.method, "dispatch.v1.DispatchCommandService/CreateOrder");
    assert.equal(typeof action.meta.requestId, "string");
    assert.deepEqual(action.payload, {
      request: { projectId, consignee: "Ana", address: "Main St 1", weightKg: 3 },
      idempotencyKey: "k1",
    });
    assert.equal(findNonSerializableValue(action), false);
    assert.notEqual(queries.listProjects({}).meta.requestId, queries.listProjects({}).meta.requestId);
    // @ts-expect-error: a field the request does not have
    void queries.getOrderBoard({ projectID: projectId });
  });

  test("isEvent narrows publications by event type", () => {
    const action = sluicePublication({
      channel: "org",
      offset: "1",
      epoch: "e",
      type: "dispatch.v1.OrderCreated",
      event: { orderId: "o1" },
      metadata: null,
    });
    const matches = isEvent(OrderCreatedSchema);
    assert.equal(matches(action), true);
    if (matches(action)) {
      const event: OrderCreatedJson = action.payload.event;
      assert.equal(event.orderId, "o1");
    }
    assert.equal(matches({ ...action, payload: { ...action.payload, type: "dispatch.v1.OrderEdited" } }), false);
  });

  test("the connection slice keeps the state, the last error and since when", () => {
    const reduce = connectionSlice.reducer;
    let state = reduce(undefined, { type: "init" });
    state = reduce(state, sluiceConnection({ state: "connected", error: null, retryInMs: null, at: 10 }));
    state = reduce(
      state,
      sluiceConnection({
        state: "disconnected",
        error: { code: 4001, reason: "shutting down" },
        retryInMs: 300,
        at: 20,
      }),
    );
    state = reduce(state, sluiceConnection({ state: "connected", error: null, retryInMs: null, at: 30 }));
    assert.deepEqual(state, {
      state: "connected",
      lastError: { code: 4001, reason: "shutting down" },
      since: 30,
      retryInMs: null,
    });
  });
});

async function storeOnScriptedServer(t: TestContext) {
  const server = await startScriptedServer();
  const client = createClient({ url: server.url, WebSocket, reconnect: { minDelayMs: 5, maxDelayMs: 20 } });
  const seen: UnknownAction[] = [];
  const store = configureStore({
    reducer: {
      sluiceConnection: connectionSlice.reducer,
      log: (state: number = 0, action: UnknownAction) => {
        if (action.type.startsWith("sluice/")) seen.push(action);
        return state + 1;
      },
    },
    middleware: (getDefault) => getDefault().concat(createSluiceMiddleware(client)),
  });
  t.after(async () => {
    await client.close();
    await server.close();
  });
  const conn = await server.connection(0);
  conn.connected();
  await waitFor(() => store.getState().sluiceConnection.state === "connected", "connected in the store");
  return { store, conn, seen };
}

describe("createSluiceMiddleware", () => {
  test("a call action resolves dispatch with the JSON response and dispatches fulfilled", async (t) => {
    const { store, conn, seen } = await storeOnScriptedServer(t);
    const pending = store.dispatch(queries.listProjects({}));
    const call = await conn.next("call");
    const list = create(ProjectListSchema, { projects: [{ projectId, name: "Harbour", openOrders: 2 }] });
    conn.send({
      kind: {
        case: "reply",
        value: { id: call.id, outcome: { case: "result", value: anyPack(ProjectListSchema, list) } },
      },
    });
    const result: ProjectListJson = await pending;
    assert.equal(result.projects?.[0]?.name, "Harbour");
    const fulfilled = seen.find(callFulfilled.match);
    assert.ok(fulfilled);
    assert.equal(fulfilled.meta.method, "dispatch.v1.DispatchQueryService/ListProjects");
    assert.deepEqual(fulfilled.payload, result);
    assert.equal(findNonSerializableValue(seen), false);
  });

  test("an error rejects dispatch with the RpcError and dispatches a serializable rejected action", async (t) => {
    const { store, conn, seen } = await storeOnScriptedServer(t);
    const pending = store.dispatch(commands.createProject({ name: "x" }));
    const call = await conn.next("call");
    conn.send({
      kind: {
        case: "reply",
        value: {
          id: call.id,
          outcome: { case: "error", value: { code: ErrorCode.PERMISSION_DENIED, message: "viewers may not" } },
        },
      },
    });
    await assert.rejects(pending, (e: unknown) => e instanceof RpcError && e.code === ErrorCode.PERMISSION_DENIED);
    const rejected = seen.find(callRejected.match);
    assert.deepEqual(rejected?.payload, {
      code: ErrorCode.PERMISSION_DENIED,
      codeName: "PERMISSION_DENIED",
      message: "viewers may not",
      details: [],
      retriable: false,
    });
    // Bad JSON never reaches the socket: it is a typed INVALID_ARGUMENT.
    const good = queries.getOrderBoard({ projectId });
    const bad: typeof good = { ...good, payload: { request: { projectId: 42 as unknown as string } } };
    await assert.rejects(
      store.dispatch(bad),
      (e: unknown) => e instanceof RpcError && e.code === ErrorCode.INVALID_ARGUMENT,
    );
  });

  test("subscribe actions become subscriptions; publications and confirmations become JSON actions", async (t) => {
    const { store, conn, seen } = await storeOnScriptedServer(t);
    store.dispatch(sluiceSubscribe("org", { presence: true }));
    const subscribe = await conn.next("subscribe");
    assert.equal(subscribe.presence, true);
    conn.send({
      kind: {
        case: "reply",
        value: {
          id: subscribe.id,
          outcome: {
            case: "subscribed",
            value: {
              channel: "org",
              position: { offset: 0n, epoch: "e1" },
              presence: [{ userId: "u2", displayName: "Ben", connections: 1 }],
            },
          },
        },
      },
    });
    const event = anyPack(OrderCreatedSchema, create(OrderCreatedSchema, { orderId: "o1", projectId, weightKg: 2 }));
    conn.send({
      kind: {
        case: "publication",
        value: { channel: "org", offset: 1n, epoch: "e1", event, metadata: { eventId: "ev1", streamVersion: 1n } },
      },
    });
    await waitFor(() => seen.some(sluicePublication.match), "a publication action");
    const subscribed = seen.find(sluiceSubscribed.match);
    assert.deepEqual(subscribed?.payload, {
      channel: "org",
      recovered: false,
      presence: [{ userId: "u2", displayName: "Ben", connections: 1 }],
    });
    const publication = seen.find(isEvent(OrderCreatedSchema));
    assert.ok(publication);
    assert.equal(publication.payload.offset, "1");
    assert.equal(publication.payload.event.orderId, "o1");
    assert.equal(publication.payload.metadata?.streamVersion, "1");
    assert.equal(findNonSerializableValue(seen), false);
    store.dispatch(sluiceUnsubscribe("org"));
    assert.equal((await conn.next("unsubscribe")).channel, "org");
  });
});
