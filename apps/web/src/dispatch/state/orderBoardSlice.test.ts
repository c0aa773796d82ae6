import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { orderBoardLoaded, orderBoardRequested, orderBoardSlice, type OrderBoardState } from "./orderBoardSlice";
import { publication } from "./testPublications";

const reduce = orderBoardSlice.reducer;
const projectId = "p1";
const channel = `project:${projectId}`;
const orderStream = (orderId: string, version: number) => ({ id: `order-${orderId}`, version });

function board(): OrderBoardState {
  const requested = reduce(undefined, orderBoardRequested({ projectId }));
  return reduce(
    requested,
    orderBoardLoaded({
      projectId,
      orders: [
        {
          orderId: "a",
          projectId,
          consignee: "Alpha",
          weightKg: 100,
          status: "ORDER_STATUS_OPEN",
          routeId: "",
          version: "1",
        },
      ],
    }),
  );
}

describe("order board slice", () => {
  test("adds created orders and follows an order through assignment, edit and cancellation", () => {
    let state = reduce(
      board(),
      publication(
        channel,
        "OrderCreated",
        { orderId: "b", projectId, consignee: "Bravo", weightKg: 5 },
        orderStream("b", 1),
      ),
    );
    assert.equal(state.orders.b?.status, "ORDER_STATUS_OPEN");
    state = reduce(
      state,
      publication(channel, "OrderAssigned", { orderId: "a", projectId, routeId: "r1" }, orderStream("a", 2)),
    );
    assert.deepEqual([state.orders.a?.status, state.orders.a?.routeId], ["ORDER_STATUS_PLANNED", "r1"]);
    state = reduce(
      state,
      publication(
        channel,
        "OrderEdited",
        { orderId: "a", projectId, consignee: "Alpha B.V.", address: "Main 1", weightKg: 120 },
        orderStream("a", 3),
      ),
    );
    assert.equal(state.orders.a?.consignee, "Alpha B.V.");
    state = reduce(
      state,
      publication(channel, "RouteDispatched", { routeId: "r1", projectId }, { id: "route-r1", version: 7 }),
    );
    assert.equal(state.orders.a?.status, "ORDER_STATUS_DISPATCHED");
    state = reduce(
      state,
      publication(channel, "OrderCancelled", { orderId: "b", projectId, reason: "" }, orderStream("b", 2)),
    );
    assert.equal(state.orders.b?.status, "ORDER_STATUS_CANCELLED");
    state = reduce(
      state,
      publication(channel, "OrderPersonalDataErased", { orderId: "a", projectId, routeId: "r1" }, orderStream("a", 4)),
    );
    assert.deepEqual(
      [state.orders.a?.consignee, state.orders.a?.address, state.orders.a?.personalDataErased],
      ["", "", true],
    );
  });

  test("an answer older than an order's folded events keeps the newer order", () => {
    let state = reduce(
      board(),
      publication(channel, "OrderAssigned", { orderId: "a", projectId, routeId: "r1" }, orderStream("a", 2)),
    );
    state = reduce(state, orderBoardRequested({ projectId }));
    state = reduce(
      state,
      orderBoardLoaded({
        projectId,
        orders: [{ orderId: "a", projectId, consignee: "Alpha", status: "ORDER_STATUS_OPEN", version: "1" }],
      }),
    );
    assert.equal(state.orders.a?.status, "ORDER_STATUS_PLANNED");
  });

  test("a skipped version marks the board stale", () => {
    const state = reduce(
      board(),
      publication(channel, "OrderCancelled", { orderId: "a", projectId }, orderStream("a", 3)),
    );
    assert.equal(state.stale, true);
    assert.equal(state.orders.a?.status, "ORDER_STATUS_OPEN");
  });
});
