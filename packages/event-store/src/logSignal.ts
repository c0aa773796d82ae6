import { randomUUID } from "node:crypto";
import type { Database } from "@sluice/database";

/** The channel on which stores over one database tell each other that the log grew. */
const channel = "event-log";

/**
 * The least time between two of a store's notifications; commits meanwhile share the next. Each
 * notification is a statement and a durable commit of its own: one after every append cost a
 * writer in sequence ~100 µs of server CPU per append and ~0.06 ms of its p50 (decision 0016). A
 * process that follows the log hears of an append at most this much later.
 */
const minIntervalMs = 2;

export interface LogSignal {
  /** Tells the other stores that this one committed. */
  appended(): void;
  stop(): Promise<void>;
}

/**
 * Appends by other processes heard at once, not at the next poll: a store on a database that
 * others write too tells the channel after its commits, and wakes its own waiters when another
 * store does. After, not in them: a NOTIFY inside the append's transaction would queue every
 * commit on the server's one notification lock. One notify in flight at most, and one every
 * `minIntervalMs`; commits meanwhile share the next. Heard at most once (see `Database.listen`),
 * so waiters still poll.
 */
export async function startLogSignal(db: Database, onAppendedElsewhere: () => void): Promise<LogSignal> {
  // Its own notifications come back to it too; its waiters heard those commits already.
  const self = randomUUID();
  const stopListening = await db.listen(channel, (sender) => {
    if (sender !== self) onAppendedElsewhere();
  });
  let sending = false;
  let again = false;
  let lastSentAt = -Infinity;

  async function send(): Promise<void> {
    do {
      // Timers count whole milliseconds from the event loop's clock, so one may end early: waited
      // for until the interval has passed. Unreferenced: a notification still waiting does not keep
      // the process alive.
      let wait: number;
      while ((wait = lastSentAt + minIntervalMs - performance.now()) > 0)
        await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)).unref());
      // Commits until now are in the log before this notification is sent: it tells of them too.
      again = false;
      lastSentAt = performance.now();
      try {
        await db.notify(channel, self);
      } catch (error) {
        // The others wait for their next poll instead; the append itself has committed.
        console.error("event store: telling other processes of an append failed", error);
      }
    } while (again);
    sending = false;
  }

  return {
    appended() {
      if (sending) {
        again = true;
        return;
      }
      sending = true;
      void send();
    },
    stop: () => stopListening(),
  };
}
