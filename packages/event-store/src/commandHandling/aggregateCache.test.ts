import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createAggregateCache } from "./aggregateCache";
import type { Decider } from "./decider";

const deciderOf = (streamType: string) =>
  ({
    streamType,
    initialState: () => 0,
    evolve: (state: number) => state + 1,
    decide: () => [],
  }) as unknown as Decider<number, never>;
const order = deciderOf("dispatch.order");
const route = deciderOf("dispatch.route");

describe("aggregate cache", () => {
  test("gives back what was kept, for its organization and stream and decider only", () => {
    const cache = createAggregateCache();
    cache.set("org-a", "s-1", order, { state: 3, version: 3n });
    assert.deepEqual(cache.get("org-a", "s-1", order), { state: 3, version: 3n });
    assert.equal(cache.get("org-b", "s-1", order), undefined);
    assert.equal(cache.get("org-a", "s-2", order), undefined);
    assert.equal(cache.get("org-a", "s-1", route), undefined, "another kind of aggregate under the same id");
  });

  test("keeps the newer version when an older one arrives late, and forgets on delete", () => {
    const cache = createAggregateCache();
    cache.set("org", "s", order, { state: 5, version: 5n });
    cache.set("org", "s", order, { state: 4, version: 4n });
    assert.equal(cache.get("org", "s", order)?.version, 5n);
    cache.set("org", "s", order, { state: 6, version: 6n });
    assert.equal(cache.get("org", "s", order)?.version, 6n);
    cache.delete("org", "s");
    assert.equal(cache.get("org", "s", order), undefined);
  });

  test("drops the least recently used entry first once full", () => {
    const cache = createAggregateCache({ maxEntries: 3 });
    for (const id of ["a", "b", "c"]) cache.set("org", id, order, { state: 1, version: 1n });
    cache.get("org", "a", order); // used: "b" is now the least recently used
    cache.set("org", "d", order, { state: 1, version: 1n });
    assert.equal(cache.get("org", "b", order), undefined);
    for (const id of ["a", "c", "d"]) assert.ok(cache.get("org", id, order), `${id} kept`);
  });

  test("a project used by every command stays while the orders it guards come and go", () => {
    const cache = createAggregateCache({ maxEntries: 100 });
    cache.set("org", "project", order, { state: 0, version: 1n });
    for (let n = 0; n < 1_000; n++) {
      assert.ok(cache.get("org", "project", order), `project kept at order ${n}`);
      cache.set("org", `order-${n}`, order, { state: 1, version: 1n });
    }
  });
});
