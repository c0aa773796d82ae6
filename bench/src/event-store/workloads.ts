// The append workloads, each run the same way against either store.
import { createHash, randomUUID } from "node:crypto";
import type { BenchStore } from "./stores";

export interface Sample {
  /** Milliseconds per append call. */
  readonly latenciesMs: number[];
  /** Append calls completed per second of the measured window. */
  readonly appendsPerSecond: number;
  /** Append calls completed in all, warm-up included (what the CPU used is divided by). */
  readonly made: number;
}

/**
 * One writer appending `eventsPerAppend` events at a time, in sequence (each append awaited before
 * the next), round robin over `streams.length` streams at their exact expected version.
 */
export async function sequentialAppends(
  store: BenchStore,
  appends: number,
  eventsPerAppend: number,
  streams: Map<string, bigint> = freshStreams(100),
): Promise<Sample> {
  const ids = [...streams.keys()];
  const latenciesMs: number[] = [];
  const started = performance.now();
  for (let i = 0; i < appends; i++) {
    const streamId = ids[i % ids.length]!;
    const version = streams.get(streamId)!;
    const t0 = performance.now();
    await store.append(streamId, version, eventsPerAppend);
    latenciesMs.push(performance.now() - t0);
    streams.set(streamId, version + BigInt(eventsPerAppend));
  }
  return { latenciesMs, appendsPerSecond: appends / ((performance.now() - started) / 1000), made: appends };
}

/**
 * `writers` concurrent writers, each on a stream of its own, appending one event at a time in a
 * closed loop for `warmupSeconds + seconds`; only appends that complete in the last `seconds` count.
 */
export async function concurrentAppends(
  store: BenchStore,
  writers: number,
  warmupSeconds: number,
  seconds: number,
): Promise<Sample> {
  const start = performance.now();
  const measureFrom = start + warmupSeconds * 1000;
  const end = measureFrom + seconds * 1000;
  const latenciesMs: number[] = [];
  let completed = 0;
  let made = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      const streamId = randomUUID();
      let version = 0n;
      while (performance.now() < end) {
        const t0 = performance.now();
        await store.append(streamId, version, 1);
        const t1 = performance.now();
        version += 1n;
        made += 1;
        if (t1 >= measureFrom && t1 <= end) {
          completed += 1;
          latenciesMs.push(t1 - t0);
        }
      }
    }),
  );
  return { latenciesMs, appendsPerSecond: completed / seconds, made };
}

/** `count` new streams, at version 0. */
export function freshStreams(count: number): Map<string, bigint> {
  return new Map(Array.from({ length: count }, () => [randomUUID(), 0n]));
}

/** The id the bulk fill gives stream `n`: md5('s' || n) as a UUID, as PostgreSQL's md5(…)::uuid spells it. */
export function filledStreamId(n: number): string {
  const hex = createHash("md5").update(`s${n}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
