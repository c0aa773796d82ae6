import type { ArchiveReport, EventStore } from "../types";

export interface ArchivingOptions {
  /** Time between rounds. A round archives until no closed stream is left, `batchSize` at a time. */
  readonly intervalMs: number;
  /** Streams per transaction: small enough that one round never holds many rows locked. */
  readonly batchSize: number;
  /** A failed round is reported here and tried again at the next interval. */
  readonly onError: (error: unknown) => void;
  /** Hears what each round moved, when it moved anything. */
  readonly onArchived?: (report: ArchiveReport) => void;
}

/**
 * The periodic job that keeps the hot `events` table small: every `intervalMs`, moves every closed
 * stream to the archive. `stop()` cancels the next round and waits for one under way.
 */
export function startArchiving(store: EventStore, options: ArchivingOptions): { stop(): Promise<void> } {
  const { intervalMs, batchSize, onError, onArchived } = options;
  if (!Number.isInteger(intervalMs) || intervalMs < 1)
    throw new RangeError(`archiving intervalMs must be a positive integer, got ${intervalMs}`);
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  async function round(): Promise<void> {
    const total = { streams: 0, events: 0 };
    for (;;) {
      if (stopped) break;
      const moved = await store.archiveClosedStreams({ limit: batchSize });
      total.streams += moved.streams;
      total.events += moved.events;
      if (moved.streams < batchSize) break;
    }
    if (total.streams > 0) onArchived?.(total);
  }

  const timer = setInterval(() => {
    running = running.then(round).catch(onError);
  }, intervalMs);
  timer.unref();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
