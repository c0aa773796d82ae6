import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ChannelCursor } from "./channel-cursor";

describe("ChannelCursor", () => {
  test("delivers each offset of an epoch once, in the order seen", () => {
    const cursor = new ChannelCursor();
    const delivered = [1n, 2n, 2n, 1n, 3n, 3n, 4n].filter((offset) => cursor.advance(offset, "e1"));
    assert.deepEqual(delivered, [1n, 2n, 3n, 4n]);
    assert.deepEqual(cursor.position, { offset: 4n, epoch: "e1" });
  });

  test("a new epoch restarts offsets", () => {
    const cursor = new ChannelCursor({ offset: 10n, epoch: "e1" });
    assert.equal(cursor.advance(1n, "e2"), true);
    assert.equal(cursor.advance(1n, "e2"), false);
    assert.deepEqual(cursor.position, { offset: 1n, epoch: "e2" });
  });

  test("a publication of another epoch leaves the cursor's", () => {
    const cursor = new ChannelCursor();
    assert.equal(cursor.leaves("e1"), false, "nothing to leave before anything was seen");
    cursor.settle({ offset: 3n, epoch: "e1" });
    assert.equal(cursor.leaves("e1"), false);
    assert.equal(cursor.leaves("e2"), true);
  });

  test("settle moves to the server's position but never backwards in the same epoch", () => {
    const cursor = new ChannelCursor();
    assert.equal(cursor.position, undefined);
    cursor.settle({ offset: 5n, epoch: "e1" });
    assert.deepEqual(cursor.position, { offset: 5n, epoch: "e1" });
    assert.equal(cursor.advance(5n, "e1"), false, "what the position covers is not delivered again");
    cursor.settle({ offset: 3n, epoch: "e1" });
    assert.deepEqual(cursor.position, { offset: 5n, epoch: "e1" });
    cursor.settle({ offset: 2n, epoch: "e2" });
    assert.deepEqual(cursor.position, { offset: 2n, epoch: "e2" });
  });
});
