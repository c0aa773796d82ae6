import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay, checkBackoff } from "./backoff";

const bounds = { minDelayMs: 100, maxDelayMs: 5_000 };

describe("backoffDelay", () => {
  test("stays within [min, min * 2^attempt] and never above max", () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(bounds.maxDelayMs, bounds.minDelayMs * 2 ** attempt);
      assert.equal(
        backoffDelay(attempt, bounds, () => 0),
        bounds.minDelayMs,
      );
      assert.equal(
        backoffDelay(attempt, bounds, () => 0.999999),
        ceiling,
      );
      const drawn = backoffDelay(attempt, bounds);
      assert.ok(drawn >= bounds.minDelayMs && drawn <= ceiling, `attempt ${attempt}: ${drawn}`);
    }
  });

  test("is jittered: the same attempt does not always give the same delay", () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(6, bounds)));
    assert.ok(delays.size > 1);
  });

  test("the ceiling doubles per attempt", () => {
    assert.deepEqual(
      [0, 1, 2, 3].map((attempt) => backoffDelay(attempt, bounds, () => 1)),
      [100, 200, 400, 800],
    );
  });

  test("bounds are validated once", () => {
    assert.throws(() => checkBackoff({ minDelayMs: -1, maxDelayMs: 10 }), RangeError);
    assert.throws(() => checkBackoff({ minDelayMs: 100, maxDelayMs: 10 }), RangeError);
    assert.deepEqual(checkBackoff(bounds), bounds);
  });
});
