import { randomUUID } from "node:crypto";
import type { Database } from "@sluice/database";

/** The channel on which stores over one database tell each other that the log grew. */
const channel = "event-log";

export interface LogSignal {
  /** Tells the other stores that this one committed. */
  appended(): void;
  stop(): Promise<void>;
}

/**
 * Appends by other processes heard at once, not at the next poll: a store on a database that
 * others write too tells the channel after its commits, and wakes its own waiters when another
 * store does. After, not in them: a NOTIFY inside the append's transaction would queue every
 * commit on the server's one notification lock. One notify in flight at most; commits meanwhile
 * share the next. Heard at most once (see `Database.listen`), so waiters still poll.
 */
export async function startLogSignal(db: Database, onAppendedElsewhere: () => void): Promise<LogSignal> {
  // Its own notifications come back to it too; its waiters heard those commits already.
  const self = randomUUID();
  const stopListening = await db.listen(channel, (sender) => {
    if (sender !== self) onAppendedElsewhere();
  });
  let sending = false;
  let again = false;

  async function send(): Promise<void> {
    do {
      again = false;
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
