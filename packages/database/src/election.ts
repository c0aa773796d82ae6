import type { Database } from "./database";
import type { Lease } from "./lease";

/** Work that runs in one process of a deployment at a time: started when elected, stopped when not. */
export interface ElectedWork {
  /** Stops taking work; resolves once what is in hand has ended. */
  stop(): Promise<void>;
}

export interface ElectionOptions {
  /**
   * How often a standby tries to take the lease, and how often the holder checks that its
   * connection still answers (`LeaseOptions.checkEveryMs`). 1,000 ms unless told.
   */
  readonly retryMs?: number;
  /** Told each time this process starts or stops leading. */
  readonly onLeading?: (leading: boolean) => void;
  /** Told what went wrong: a try that failed, a start that threw, a lease lost. The console unless given. */
  readonly onError?: (error: unknown, message: string) => void;
}

export interface Election {
  /** True while this process holds the lease and its work runs. */
  readonly leading: boolean;
  /** Stops the work if it runs and gives the lease up (a standby takes over), or stops trying. */
  stop(): Promise<void>;
}

export const defaultElectionRetryMs = 1_000;

/**
 * Resolves once any signal aborts, or after `ms`. By hand rather than AbortSignal.any: a standby
 * waits like this every second for as long as it runs, and must leave no listener behind.
 */
function firstAbort(signals: readonly AbortSignal[], ms = Infinity): Promise<void> {
  return new Promise((resolve) => {
    if (signals.some((signal) => signal.aborted)) return resolve();
    const done = () => {
      clearTimeout(timer);
      for (const signal of signals) signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = ms === Infinity ? undefined : setTimeout(done, ms);
    for (const signal of signals) signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Runs `start`'s work only while this process holds the lease `name` on `db`, one process of the
 * deployment at a time. Standbys try to take the lease every `retryMs`; when the holder stops, or
 * dies, or loses its connection, one of them takes it and starts the work. A holder that loses its
 * lease stops its work at once (what is in hand ends; a new batch does not start) and tries again
 * after the others have had their chance.
 */
export function startElection(
  db: Database,
  name: string,
  start: () => Promise<ElectedWork>,
  options: ElectionOptions = {},
): Election {
  const retryMs = options.retryMs ?? defaultElectionRetryMs;
  if (!Number.isFinite(retryMs) || retryMs <= 0) throw new RangeError(`election ${name}: retryMs must be above 0`);
  const onError =
    options.onError ?? ((error: unknown, message: string) => console.error(`election ${name}: ${message}`, error));
  const stopping = new AbortController();
  let leading = false;

  const pause = (ms: number) => firstAbort([stopping.signal], ms);

  /** Runs the work for as long as the lease lasts; false when it ended badly (lost, or the start failed). */
  async function lead(lease: Lease): Promise<boolean> {
    let work: ElectedWork;
    try {
      work = await start();
    } catch (error) {
      onError(error, "starting the work failed; giving the lease up");
      await lease.release();
      return false;
    }
    leading = true;
    options.onLeading?.(true);
    await firstAbort([lease.lost, stopping.signal]);
    leading = false;
    options.onLeading?.(false);
    const lost = lease.lost.aborted;
    if (lost) onError(lease.lost.reason, "the lease was lost; stopping the work");
    try {
      await work.stop();
    } catch (error) {
      onError(error, "stopping the work failed");
    }
    await lease.release();
    return !lost;
  }

  async function run(): Promise<void> {
    while (!stopping.signal.aborted) {
      let lease: Lease | undefined;
      try {
        lease = await db.tryLease(name, { checkEveryMs: retryMs });
      } catch (error) {
        onError(error, "trying to take the lease failed");
      }
      if (!lease) {
        await pause(retryMs);
        continue;
      }
      if (stopping.signal.aborted) {
        await lease.release();
        break;
      }
      // After a loss or a failed start, a standby gets the first chance: this process's connection
      // or work may be what is wrong.
      if (!(await lead(lease))) await pause(2 * retryMs);
    }
  }

  const running = run();

  return {
    get leading() {
      return leading;
    },
    async stop() {
      stopping.abort();
      await running;
    },
  };
}
