import type { Database } from "@sluice/database";
import {
  advanceCheckpoint,
  compareLogPositions,
  loadCheckpoint,
  startConsumer,
  startOfLog,
  tailLog,
  type EventStore,
  type LogPosition,
  type RecordedEvent,
} from "@sluice/event-store";
import type { EventBus } from "./event-bus";

export interface OutboxOptions {
  /** Names its checkpoint in the log. */
  readonly name?: string;
  /** How often a relay fed in memory writes down how far it got (a restart republishes from there). */
  readonly checkpointIntervalMs?: number;
  /** Events handed to the bus at once at most; 1,000 unless told. */
  readonly batchSize?: number;
}

export interface Outbox {
  /** Resolves once every event committed before the call has been handed to the bus. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The outbox: hands every event the log records to the event bus after its transaction commits,
 * at least once and in log order (so in order per stream). The log is the outbox table: the
 * relay keeps a checkpoint in it, and a relay that stops anywhere, a crash included, starts again
 * from its checkpoint; what it hands on twice, consumers drop by stream and version.
 *
 * How it follows the log depends on who can write it. In a store that is its database's one
 * writer (PGlite), the events this process commits are handed on from memory (`tailLog`), at once,
 * and the checkpoint follows every `checkpointIntervalMs`. Otherwise other processes append too:
 * the relay is a consumer of the log, publishing each batch in the transaction that moves its
 * checkpoint, and like any consumer never skips an event that commits late.
 */
export function startOutbox(db: Database, store: EventStore, bus: EventBus, options: OutboxOptions = {}): Outbox {
  const name = options.name ?? "outbox";
  if (!store.soleWriter) {
    // Published inside the transaction that moves the checkpoint: a crash before its commit
    // publishes the batch again, never skips it.
    const consumer = startConsumer(db, store, {
      name,
      batchSize: options.batchSize ?? 1_000,
      handle: (events) => bus.publish(events),
    });
    return { caughtUp: () => consumer.caughtUp(), stop: () => consumer.stop() };
  }
  return startMemoryFedOutbox(db, store, bus, name, options.checkpointIntervalMs ?? 1_000, options.batchSize ?? 1_000);
}

function startMemoryFedOutbox(
  db: Database,
  store: EventStore,
  bus: EventBus,
  name: string,
  checkpointIntervalMs: number,
  batchSize: number,
): Outbox {
  const tail = tailLog(store);
  let stopping = false;
  let wake = new AbortController();
  let published: LogPosition = startOfLog;
  let saved: LogPosition = startOfLog;
  /** Reads of the log begun so far; a waiter is served by an empty read begun after it asked. */
  let reads = 0;
  const waiters = new Set<{ afterRead: number; resolve(): void }>();

  async function publish(events: readonly RecordedEvent[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await bus.publish(events);
      } catch (error) {
        if (stopping) throw error;
        const delay = Math.min(100 * 2 ** (attempt - 1), 5_000);
        console.error(`outbox ${name}: publishing failed (attempt ${attempt}), retrying in ${delay} ms`, error);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  async function saveCheckpoint(): Promise<void> {
    if (compareLogPositions(published, saved) === 0) return;
    const to = published;
    if (!(await advanceCheckpoint(db, name, saved, to)))
      throw new Error(`outbox ${name}: its checkpoint moved under it; is a second relay running on this log?`);
    saved = to;
  }

  async function run(): Promise<void> {
    saved = published = await loadCheckpoint(db, name);
    let savedAt = performance.now();
    for (;;) {
      wake = new AbortController();
      // Listening before the read: a commit during it ends the wait at once.
      const appended = store.waitForAppend(wake.signal);
      const read = ++reads;
      const events = await tail.read(published, batchSize);
      const last = events.at(-1);
      if (last) {
        await publish(events);
        published = { transactionId: last.transactionId, globalPosition: last.globalPosition };
      }
      if (performance.now() - savedAt >= checkpointIntervalMs) {
        await saveCheckpoint();
        savedAt = performance.now();
      }
      if (last) continue;
      for (const waiter of waiters) {
        if (waiter.afterRead >= read) continue;
        waiters.delete(waiter);
        waiter.resolve();
      }
      if (stopping) break;
      // Asleep until a commit, a caughtUp() or stop(), or the checkpoint's interval.
      const timer = setTimeout(() => wake.abort(), checkpointIntervalMs);
      await appended;
      clearTimeout(timer);
    }
    await saveCheckpoint();
  }

  const running = run().finally(() => tail.close());
  running.catch((error: unknown) => console.error(`outbox ${name} stopped on an error`, error));

  return {
    caughtUp() {
      if (stopping) return Promise.reject(new Error(`outbox ${name} stopped`));
      const handedOn = new Promise<void>((resolve) => waiters.add({ afterRead: reads, resolve }));
      wake.abort();
      return Promise.race([handedOn, running.then(() => Promise.reject(new Error(`outbox ${name} stopped`)))]);
    },
    async stop() {
      stopping = true;
      wake.abort();
      // A relay that stops on an error has logged it; what it had not handed on goes after a restart.
      await running.catch(() => undefined);
    },
  };
}
