import type { EventStore, LogPosition, RecordedEvent } from "../types";
import { compareLogPositions } from "./checkpoint";

/** Reads the log after a place, in log order, for one reader. */
export interface LogTail {
  read(after: LogPosition, limit: number): Promise<readonly RecordedEvent[]>;
  /** Stops listening for commits. */
  close(): void;
}

/**
 * The log as one reader follows it. From the database, except in a store that is its log's one
 * writer (PGlite): there, once a read has found the log drained, every later event is one this
 * process committed and heard in memory (`onCommitted`), in log order, so it is served from
 * memory instead of being read back and decoded again. A reader that falls far behind, or goes
 * back before what memory holds, reads the database again until it has caught up.
 */
export function tailLog(store: EventStore, options: { readonly maxHeld?: number } = {}): LogTail {
  if (!store.soleWriter) return { read: (after, limit) => store.readAll({ after, limit }), close() {} };
  const maxHeld = options.maxHeld ?? 100_000;
  /** Events heard since the last read of the database began, in log order. */
  let heard: RecordedEvent[] = [];
  /** Whether `heard` holds every event after the last read of the database. */
  let served = false;
  /** What was handed out and dropped from `heard`: a reader going back before it reads the database. */
  let dropped: LogPosition | undefined;
  let overflows = 0;
  const stopListening = store.onCommitted((events) => {
    heard.push(...events);
    if (heard.length > maxHeld) {
      // Too far behind to hold in memory: the reader reads the database again.
      heard = [];
      served = false;
      overflows += 1;
    }
  });

  return {
    async read(after, limit) {
      if (served && (dropped === undefined || compareLogPositions(after, dropped) >= 0)) {
        let done = 0;
        while (done < heard.length && compareLogPositions(heard[done]!, after) <= 0) done++;
        if (done > 0) {
          dropped = heard[done - 1];
          heard = heard.slice(done);
        }
        return heard.slice(0, limit);
      }
      // What commits from here on is heard; what committed before is in the read's snapshot.
      heard = [];
      served = false;
      dropped = undefined;
      const overflowsBefore = overflows;
      const page = await store.readAll({ after, limit });
      // Drained: memory now holds everything after this page (what it holds twice is dropped by position).
      if (page.length < limit && overflows === overflowsBefore) served = true;
      return page;
    },
    close: stopListening,
  };
}
