// What every AttemptCounters does, run against each implementation (memory, Redis).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AttemptCounters } from "./sign-in-throttle";

export interface CountersHarness {
  readonly counters: AttemptCounters;
  /** The clock the counters' resetAt is told in. */
  now(): number;
  /** Lets at least `ms` pass for the counters (a fake clock advanced, or real time waited). */
  elapse(ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface ContractOptions {
  readonly skip?: string | false;
  /** How far a resetAt may stray from the window's end (a store with its own clock rounds). */
  readonly slackMs: number;
}

export function attemptCountersContract(
  name: string,
  open: () => Promise<CountersHarness>,
  options: ContractOptions,
): void {
  const { slackMs } = options;
  const within = (actual: number, expected: number, what: string) =>
    assert.ok(Math.abs(actual - expected) <= slackMs, `${what}: ${actual} is not within ${slackMs} ms of ${expected}`);

  describe(`${name} (AttemptCounters contract)`, { skip: options.skip }, () => {
    const withCounters = (body: (h: CountersHarness) => Promise<void>) => async () => {
      const h = await open();
      try {
        await body(h);
      } finally {
        await h.close();
      }
    };

    test(
      "increment counts from 1; the window runs from the first increment and later ones do not move it",
      withCounters(async (h) => {
        const start = h.now();
        const first = await h.counters.increment("k", 60_000);
        assert.equal(first.count, 1);
        within(first.resetAt, start + 60_000, "first resetAt");
        await h.elapse(20);
        const second = await h.counters.increment("k", 60_000);
        assert.equal(second.count, 2);
        within(second.resetAt, first.resetAt, "second resetAt");
      }),
    );

    test(
      "peek answers the count without adding to it, and nothing for a counter never incremented",
      withCounters(async (h) => {
        assert.equal(await h.counters.peek("absent"), undefined);
        const incremented = await h.counters.increment("k", 60_000);
        await h.counters.increment("k", 60_000);
        const peeked = await h.counters.peek("k");
        assert.equal(peeked?.count, 2);
        within(peeked.resetAt, incremented.resetAt, "peeked resetAt");
        assert.equal((await h.counters.peek("k"))?.count, 2);
      }),
    );

    test(
      "counters are kept apart by key",
      withCounters(async (h) => {
        await h.counters.increment("a", 60_000);
        await h.counters.increment("a", 60_000);
        assert.equal((await h.counters.increment("b", 60_000)).count, 1);
        assert.equal((await h.counters.peek("a"))?.count, 2);
      }),
    );

    test(
      "delete removes a counter; the next increment starts a new one",
      withCounters(async (h) => {
        await h.counters.increment("k", 60_000);
        await h.counters.increment("k", 60_000);
        await h.counters.delete("k");
        await h.counters.delete("never there");
        assert.equal(await h.counters.peek("k"), undefined);
        const fresh = await h.counters.increment("k", 1_000);
        assert.equal(fresh.count, 1);
        within(fresh.resetAt, h.now() + 1_000, "fresh resetAt");
      }),
    );

    test(
      "a counter vanishes when its window has passed, and counts from 1 again",
      withCounters(async (h) => {
        await h.counters.increment("short", 100);
        await h.counters.increment("short", 100);
        await h.counters.increment("long", 60_000);
        await h.elapse(150);
        assert.equal(await h.counters.peek("short"), undefined);
        assert.equal((await h.counters.increment("short", 100)).count, 1);
        assert.equal((await h.counters.peek("long"))?.count, 1, "a longer window is still running");
      }),
    );

    test(
      "increments at once each get their own count",
      withCounters(async (h) => {
        const counts = await Promise.all(Array.from({ length: 25 }, () => h.counters.increment("k", 60_000)));
        assert.deepEqual(
          counts.map((c) => c.count).sort((a, b) => a - b),
          Array.from({ length: 25 }, (_, i) => i + 1),
        );
        assert.equal((await h.counters.peek("k"))?.count, 25);
      }),
    );
  });
}
