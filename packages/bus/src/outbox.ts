import type { Database } from "@sluice/database";
import {
  advanceCheckpoint,
  compareLogPositions,
  loadCheckpoint,
  startConsumer,
  startOfLog,
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
 * How it hears of new events depends on who can write the log. A store that is its database's
 * one writer (PGlite) tells the relay each committed batch in memory, in commit order, so the
 * events reach the bus without being read back; the checkpoint follows every
 * `checkpointIntervalMs`. Otherwise other processes append too, and the relay reads the log,
 * which never skips an event that commits late, as any consumer does.
 */
export function startOutbox(db: Database, store: EventStore, bus: EventBus, options: OutboxOptions = {}): Outbox {
  const name = options.name ?? "outbox";
  if (!store.soleWriter) {
    // Published inside the transaction that moves the checkpoint: a crash before its commit
    // publishes the batch again, never skips it.
    const consumer = startConsumer(db, store, { name, handle: (events) => bus.publish(events) });
    return { caughtUp: () => consumer.caughtUp(), stop: () => consumer.stop() };
  }
  return startMemoryFedOutbox(db, store, bus, name, options.checkpointIntervalMs ?? 1_000);
}

function startMemoryFedOutbox(
  db: Database,
  store: EventStore,
  bus: EventBus,
  name: string,
  checkpointIntervalMs: number,
): Outbox {
  const committed: (readonly RecordedEvent[])[] = [];
  /** Batches heard, and batches handed on (or found handed on already): equal when idle. */
  let heard = 0;
  let handedOn = 0;
  let wake: (() => void) | undefined;
  const unlisten = store.onCommitted((events) => {
    committed.push(events);
    heard += 1;
    wake?.();
  });
  let stopping = false;
  let published: LogPosition = startOfLog;
  let saved: LogPosition = startOfLog;
  const waiters = new Set<{ upTo: number; resolve(): void }>();

  async function publish(events: readonly RecordedEvent[]): Promise<void> {
    const fresh = events.filter((event) => compareLogPositions(event, published) > 0);
    const last = fresh.at(-1);
    if (!last) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await bus.publish(fresh);
        break;
      } catch (error) {
        if (stopping) throw error;
        const delay = Math.min(100 * 2 ** (attempt - 1), 5_000);
        console.error(`outbox ${name}: publishing failed (attempt ${attempt}), retrying in ${delay} ms`, error);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    published = { transactionId: last.transactionId, globalPosition: last.globalPosition };
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
    // What committed before this relay listened (before a crash, say) is read from the log.
    // Batches heard meanwhile wait their turn and are filtered by position: none goes twice.
    for (let page; (page = await store.readAll({ after: published, limit: 1_000 })).length > 0;) {
      await publish(page);
    }
    await saveCheckpoint();
    let savedAt = performance.now();
    for (;;) {
      for (const waiter of waiters) {
        if (waiter.upTo > handedOn) continue;
        waiters.delete(waiter);
        waiter.resolve();
      }
      if (performance.now() - savedAt >= checkpointIntervalMs) {
        await saveCheckpoint();
        savedAt = performance.now();
      }
      const batch = committed.shift();
      if (batch) {
        await publish(batch);
        handedOn += 1;
        continue;
      }
      if (stopping) break;
      // Asleep until a commit, a caughtUp() or stop(); awake at the interval to save the checkpoint.
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, checkpointIntervalMs).unref();
      });
      wake = undefined;
    }
    await saveCheckpoint();
  }

  const running = run();
  running.catch((error: unknown) => console.error(`outbox ${name} stopped on an error`, error));

  return {
    caughtUp() {
      if (stopping) return Promise.reject(new Error(`outbox ${name} stopped`));
      const handed = new Promise<void>((resolve) => waiters.add({ upTo: heard, resolve }));
      wake?.();
      return Promise.race([handed, running.then(() => Promise.reject(new Error(`outbox ${name} stopped`)))]);
    },
    async stop() {
      stopping = true;
      unlisten();
      wake?.();
      // A relay that stops on an error has logged it; what it had not handed on goes after a restart.
      await running.catch(() => undefined);
    },
  };
}
