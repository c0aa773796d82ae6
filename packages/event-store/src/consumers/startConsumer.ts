import type { Database, Queryable } from "@sluice/database";
import type { EventStore, LogPosition, RecordedEvent } from "../types";
import { advanceCheckpoint, compareLogPositions, loadCheckpoint } from "./checkpoint";
import { consumerChannel } from "./followConsumer";
import { tailLog } from "./logTail";

export interface ConsumerOptions {
  /** Names the checkpoint: a consumer started again under the same name resumes where it stopped. */
  readonly name: string;
  readonly batchSize?: number;
  /**
   * Handles a batch, in log order. Runs inside the transaction that moves the checkpoint, so what
   * it writes through `tx` happens exactly once. Without it, the checkpoint moves in one statement,
   * no transaction around it (for consumers whose effects are outside the database: `afterCommit`). Use `tx` only: on PGlite the database and the
   * store wait for the transaction to end. A throw rolls the batch back; it is retried, never skipped.
   */
  handle?(events: readonly RecordedEvent[], tx: Queryable): Promise<void>;
  /**
   * Runs once the batch's transaction has committed, before the next batch and before `caughtUp`
   * counts the batch as handled, outside the transaction (it may query the database). At most
   * once: a crash between the commit and its end skips what it had left, and a throw is logged,
   * never retried. For effects outside the database, such as publishing; handle errors inside it.
   */
  readonly afterCommit?: (events: readonly RecordedEvent[]) => Promise<void>;
  /** Told about each failed attempt before the retry; logs to the console by default. */
  readonly onError?: (error: unknown, attempt: number, retryInMs: number) => void;
  readonly retryDelayMs?: { readonly initial: number; readonly max: number };
  /**
   * How long to wait, once woken by an append, before reading: what commits meanwhile joins the
   * same batch, so a busy log costs fewer, larger transactions (on PGlite each one holds the
   * thread). Adds up to this much lag; a `caughtUp()` or `stop()` cuts the wait short. 0 by default.
   */
  readonly lingerMs?: number;
  /**
   * Tells `consumerChannel(name)` after each batch it commits on a server, for those following it
   * from other processes (`followConsumer`): one more statement per batch, so only for consumers
   * that are followed (projections). False by default.
   */
  readonly announce?: boolean;
}

export interface Consumer {
  /** Ends the loop after the batch in hand, if any, is committed or rolled back. */
  stop(): Promise<void>;
  /**
   * Resolves once the consumer has handled every event committed before this call (it waits for
   * appends still in flight at the call to finish), or, given a global position, the event there.
   * Rejects if the consumer is stopped first.
   */
  caughtUp(globalPosition?: bigint): Promise<void>;
}

/** How soon a read that could not settle a caughtUp() is tried again, doubling up to `max` (ms). */
const horizonRetry = { initial: 5, max: 200 };

interface Waiter {
  /** Horizon: resolves once a drained read started when every transaction below `transactionId` had ended. */
  readonly kind: "horizon" | "position";
  readonly target: LogPosition;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * Reads the global log after its checkpoint and hands it to `handle` in batches, in order,
 * committing the new checkpoint with the handler's writes. Sleeps on `store.waitForAppend`. In a
 * store that is its log's one writer, what it commits is served from memory (`tailLog`).
 */
export function startConsumer(db: Database, store: EventStore, options: ConsumerOptions): Consumer {
  const { name, handle } = options;
  const batchSize = options.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`consumer ${name}: batchSize must be a positive integer`);
  const retryDelay = options.retryDelayMs ?? { initial: 100, max: 5_000 };
  const onError =
    options.onError ??
    ((error: unknown, attempt: number, retryInMs: number) =>
      console.error(`consumer ${name}: batch failed (attempt ${attempt}), retrying in ${retryInMs} ms`, error));

  const stopping = new AbortController();
  const tail = tailLog(store);
  const lingerMs = options.lingerMs ?? 0;
  let hurry = new AbortController();
  let wake = new AbortController();
  let checkpoint: LogPosition | undefined;
  const waiters = new Set<Waiter>();

  const settle = (predicate: (waiter: Waiter) => boolean) => {
    for (const waiter of waiters) {
      if (!predicate(waiter)) continue;
      waiters.delete(waiter);
      waiter.resolve();
    }
  };

  /** Resolves after `ms`, or at once when the consumer stops or `cut` aborts. */
  const pause = (ms: number, cut?: AbortSignal) =>
    new Promise<void>((resolve) => {
      // A signal aborted already would never tell a listener added now.
      if (stopping.signal.aborted || cut?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        stopping.signal.removeEventListener("abort", done);
        cut?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      stopping.signal.addEventListener("abort", done, { once: true });
      cut?.addEventListener("abort", done, { once: true });
    });

  /** Whether a caughtUp() waits for the transactions open at its call to end (not for a position). */
  const awaitsHorizon = () => [...waiters].some((w) => w.kind === "horizon");

  async function currentHorizon(): Promise<bigint> {
    const { rows } = await db.query<{ horizon: bigint }>("select pg_snapshot_xmin(pg_current_snapshot()) as horizon");
    return rows[0]!.horizon;
  }

  /** One read and, if there was anything, one committed batch. True when the log is drained. */
  async function step(): Promise<boolean> {
    checkpoint ??= await loadCheckpoint(db, name);
    const from = checkpoint;
    const horizon = awaitsHorizon() ? await currentHorizon() : undefined;
    const events = await tail.read(from, batchSize);
    const last = events.at(-1);
    if (last) {
      const to = { transactionId: last.transactionId, globalPosition: last.globalPosition };
      const advanced = handle
        ? await db.transaction(async (tx) => {
            if (!(await advanceCheckpoint(tx, name, from, to))) return false;
            await handle(events, tx);
            return true;
          })
        : await advanceCheckpoint(db, name, from, to);
      if (!advanced) {
        checkpoint = undefined;
        return false;
      }
      checkpoint = to;
      // Those following this consumer from other processes (`followConsumer`) check again.
      if (options.announce && !store.soleWriter) void db.notify(consumerChannel(name)).catch(() => undefined);
      if (options.afterCommit) {
        try {
          await options.afterCommit(events);
        } catch (error) {
          console.error(`consumer ${name}: afterCommit failed; the batch stays handled`, error);
        }
      }
      settle((w) => w.kind === "position" && compareLogPositions(w.target, to) <= 0);
    }
    const drained = events.length < batchSize;
    if (drained && horizon !== undefined) settle((w) => w.kind === "horizon" && w.target.transactionId <= horizon);
    return drained;
  }

  async function run(): Promise<void> {
    let attempt = 0;
    let horizonRetryMs = horizonRetry.initial;
    while (!stopping.signal.aborted) {
      wake = new AbortController();
      // Listening before the read, not after it: an append that commits while a batch is read and
      // handled (or a caughtUp() or stop() meanwhile) ends the next wait at once instead of being missed.
      const appended = store.waitForAppend(wake.signal);
      try {
        const drained = await step();
        attempt = 0;
        if (drained && awaitsHorizon()) {
          // A caughtUp() the read could not settle waits for transactions open elsewhere (on a
          // server, any of its databases') to end: nothing tells this process when they do, so
          // read again soon rather than at the next append or poll.
          await pause(horizonRetryMs);
          horizonRetryMs = Math.min(horizonRetryMs * 2, horizonRetry.max);
        } else if (drained) {
          horizonRetryMs = horizonRetry.initial;
          await appended;
          // Appends finishing in the same turn of the event loop (a burst) become one batch, not one each.
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (lingerMs > 0 && waiters.size === 0) {
            hurry = new AbortController();
            await pause(lingerMs, hurry.signal);
          }
        }
      } catch (error) {
        attempt += 1;
        const delay = Math.min(retryDelay.initial * 2 ** (attempt - 1), retryDelay.max);
        onError(error, attempt, delay);
        await pause(delay);
      } finally {
        wake.abort();
      }
    }
    tail.close();
    const stopped = new Error(`consumer ${name} stopped`);
    for (const waiter of waiters) waiter.reject(stopped);
    waiters.clear();
  }

  async function caughtUpTarget(globalPosition: bigint | undefined): Promise<Pick<Waiter, "kind" | "target">> {
    if (globalPosition !== undefined) {
      const { rows } = await db.query<{ transaction_id: bigint }>(
        "select transaction_id from events where global_position = $1",
        [globalPosition.toString()],
      );
      const row = rows[0];
      if (row) return { kind: "position", target: { transactionId: row.transaction_id, globalPosition } };
    }
    // Every transaction that had begun appending by now has an id below this one.
    const { rows } = await db.query<{ next: bigint }>("select pg_snapshot_xmax(pg_current_snapshot()) as next");
    return { kind: "horizon", target: { transactionId: rows[0]!.next, globalPosition: 0n } };
  }

  const running = run();

  return {
    async stop() {
      stopping.abort();
      wake.abort();
      await running;
    },

    async caughtUp(globalPosition) {
      const target = await caughtUpTarget(globalPosition);
      return new Promise<void>((resolve, reject) => {
        if (stopping.signal.aborted) return reject(new Error(`consumer ${name} stopped`));
        if (target.kind === "position" && checkpoint && compareLogPositions(target.target, checkpoint) <= 0)
          return resolve();
        waiters.add({ ...target, resolve, reject });
        wake.abort();
        hurry.abort();
      });
    },
  };
}
