import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { RouteSheetJson } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { routeSheetLoaded, routeSheetRequested, routeSheetSlice, type RouteSheetState } from "./routeSheetSlice";
import { notRecovered, publication } from "./testPublications";

const reduce = routeSheetSlice.reducer;
const routeId = "r1";
const channel = `route:${routeId}`;
const stream = (version: number) => ({ id: `route-${routeId}`, version });

function sheet(version: number, stops: Array<[string, number]>): RouteSheetJson {
  return {
    route: {
      routeId,
      projectId: "p1",
      name: "West",
      vehicleCapacityKg: 1000,
      loadKg: stops.reduce((sum, [, kg]) => sum + kg, 0),
      stopCount: stops.length,
      status: "ROUTE_STATUS_PLANNING",
      version: String(version),
    },
    stops: stops.map(([orderId, weightKg]) => ({ orderId, weightKg, consignee: orderId })),
  };
}

function loaded(version: number, stops: Array<[string, number]>): RouteSheetState {
  return reduce(reduce(undefined, routeSheetRequested({ routeId })), routeSheetLoaded(sheet(version, stops)));
}

const order = (state: RouteSheetState) => state.sheet?.stops?.map((stop) => stop.orderId);

describe("route sheet slice", () => {
  test("folds the next publications: a stop added at a position, reordered, removed, with the load kept", () => {
    let state = loaded(2, [["a", 100]]);
    state = reduce(
      state,
      publication(channel, "StopAdded", { routeId, orderId: "b", position: 0, weightKg: 250 }, stream(3)),
    );
    assert.deepEqual(order(state), ["b", "a"]);
    assert.equal(state.sheet?.route?.loadKg, 350);
    state = reduce(state, publication(channel, "StopsReordered", { routeId, orderIds: ["a", "b"] }, stream(4)));
    assert.deepEqual(order(state), ["a", "b"]);
    state = reduce(state, publication(channel, "StopRemoved", { routeId, orderId: "a" }, stream(5)));
    assert.deepEqual(order(state), ["b"]);
    assert.equal(state.sheet?.route?.loadKg, 250);
    assert.equal(state.sheet?.route?.stopCount, 1);
    assert.equal(state.sheet?.route?.version, "5");
  });

  test("drops publications the view already includes, the same event from a second channel too", () => {
    let state = loaded(3, [
      ["a", 100],
      ["b", 50],
    ]);
    state = reduce(state, publication(channel, "StopsReordered", { routeId, orderIds: ["b", "a"] }, stream(3)));
    assert.deepEqual(order(state), ["a", "b"]);
    const added = { routeId, orderId: "c", position: 2, weightKg: 10 };
    state = reduce(state, publication(channel, "StopAdded", added, stream(4)));
    state = reduce(state, publication("project:p1", "StopAdded", added, stream(4)));
    assert.deepEqual(order(state), ["a", "b", "c"]);
  });

  test("a gap marks the view stale instead of folding past it", () => {
    let state = loaded(2, [["a", 100]]);
    state = reduce(state, publication(channel, "StopRemoved", { routeId, orderId: "a" }, stream(4)));
    assert.equal(state.stale, true);
    assert.deepEqual(order(state), ["a"]);
  });

  test("while reloading, publications wait and are folded over the answer; an older answer does not win", () => {
    let state = loaded(2, [["a", 100]]);
    state = reduce(state, notRecovered(channel));
    assert.equal(state.loading, true);
    state = reduce(
      state,
      publication(channel, "StopAdded", { routeId, orderId: "b", position: 1, weightKg: 5 }, stream(3)),
    );
    assert.deepEqual(order(state), ["a"], "waits for the answer");
    state = reduce(state, routeSheetLoaded(sheet(2, [["a", 100]])));
    assert.deepEqual(order(state), ["a", "b"]);
    state = reduce(state, routeSheetLoaded(sheet(2, [["a", 100]])));
    assert.deepEqual(order(state), ["a", "b"], "a lagging answer keeps the newer view");
  });

  test("ignores other routes", () => {
    const state = loaded(1, []);
    const other = reduce(
      state,
      publication(
        "route:r2",
        "StopAdded",
        { routeId: "r2", orderId: "x", position: 0, weightKg: 1 },
        { id: "route-r2", version: 2 },
      ),
    );
    assert.deepEqual(order(other), []);
  });
});
