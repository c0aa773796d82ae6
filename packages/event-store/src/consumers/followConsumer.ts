import type { Database } from "@sluice/database";

/** The channel a consumer tells after each batch it commits, for those following it elsewhere. */
export const consumerChannel = (name: string): string => `consumer:${name}`;

export interface FollowConsumerOptions {
  /** Checks again this often when no word comes (a notification missed, a consumer that is down). */
  readonly pollMs?: number;
  /**
   * How long `caughtUp` waits at most before it resolves anyway: a query is answered from read
   * models a little behind rather than not at all while their projector is down or far behind.
   */
  readonly maxWaitMs?: number;
}

export interface FollowedConsumer {
  /**
   * Resolves once the consumer has handled every event committed before this call, as its own
   * `caughtUp()` would in its process, or after `maxWaitMs`, whichever comes first.
   */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

interface Progress {
  readonly next: bigint;
  readonly endedBelow: bigint;
  readonly handledBelow: bigint | null;
}

/** Whether the consumer holds every event of every transaction below `target`. */
const holds = ({ endedBelow, handledBelow }: Progress, target: bigint): boolean =>
  endedBelow >= target && (handledBelow === null || handledBelow >= target);

interface Waiter {
  /** Every transaction below it had begun before the call: handled once they ended and were read. */
  readonly target: bigint;
  readonly resolve: () => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Follows, through the database, a consumer of the log that runs in another process: the
 * scale-out shape's source gateway waits with it for the projector before a query, so a client
 * reads its own writes as in the embedded shape. One statement per wake-up for all the waiting
 * calls, woken by the consumer's word after each batch (`consumerChannel`) or the poll. It reads
 * the log's tables (`eventStoreMigrations`): its process makes them first if it may start first.
 */
export async function followConsumer(
  db: Database,
  name: string,
  options: FollowConsumerOptions = {},
): Promise<FollowedConsumer> {
  const pollMs = options.pollMs ?? 200;
  const maxWaitMs = options.maxWaitMs ?? 2_000;
  const waiters = new Set<Waiter>();
  let checking: Promise<void> | undefined;
  let checkAgain = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  const settle = (waiter: Waiter) => {
    clearTimeout(waiter.timer);
    waiters.delete(waiter);
    waiter.resolve();
  };

  /**
   * Where the consumer is, in one statement: `next`, the id every transaction begun by now is
   * below; `endedBelow`, every transaction below it has ended; `handledBelow`, the oldest
   * transaction with an event past the consumer's checkpoint (none: it holds the whole log).
   */
  async function progress(): Promise<Progress> {
    const { rows } = await db.query<{ next: bigint; ended_below: bigint; handled_below: bigint | null }>(
      `select pg_snapshot_xmax(s) as next, pg_snapshot_xmin(s) as ended_below,
              least((select e.transaction_id from events e
                     where (e.transaction_id, e.global_position) > (c.transaction_id, c.global_position)
                     order by e.transaction_id, e.global_position limit 1),
                    (select a.transaction_id from archived_events a
                     where (a.transaction_id, a.global_position) > (c.transaction_id, c.global_position)
                     order by a.transaction_id, a.global_position limit 1)) as handled_below
         from pg_current_snapshot() s,
              (select coalesce((select transaction_id from consumer_checkpoints where name = $1), '0'::xid8)
                        as transaction_id,
                      coalesce((select global_position from consumer_checkpoints where name = $1), 0)
                        as global_position) c`,
      [name],
    );
    const row = rows[0]!;
    return { next: row.next, endedBelow: row.ended_below, handledBelow: row.handled_below };
  }

  async function check(): Promise<void> {
    const now = await progress();
    for (const waiter of waiters) if (holds(now, waiter.target)) settle(waiter);
  }

  /** One check at a time; a wake-up during one runs another after it (it may have read too early). */
  function wake(): void {
    if (stopped || waiters.size === 0) return;
    if (checking) {
      checkAgain = true;
      return;
    }
    checking = (async () => {
      do {
        checkAgain = false;
        try {
          await check();
        } catch (error) {
          console.error(`following consumer ${name}: a check failed; the poll tries again`, error);
        }
      } while (checkAgain && waiters.size > 0);
    })().finally(() => {
      checking = undefined;
      schedulePoll();
    });
  }

  function schedulePoll(): void {
    clearTimeout(pollTimer);
    if (stopped || waiters.size === 0) return;
    pollTimer = setTimeout(wake, pollMs);
  }

  const stopListening = await db.listen(consumerChannel(name), wake);

  return {
    async caughtUp() {
      if (stopped) return;
      // What had begun by now: caught up already (the usual case when idle), or wait for it.
      const now = await progress();
      if (holds(now, now.next)) return;
      await new Promise<void>((resolve) => {
        const waiter: Waiter = { target: now.next, resolve, timer: setTimeout(() => settle(waiter), maxWaitMs) };
        waiters.add(waiter);
        wake();
      });
    },
    async stop() {
      stopped = true;
      clearTimeout(pollTimer);
      for (const waiter of [...waiters]) settle(waiter);
      await checking;
      await stopListening();
    },
  };
}
