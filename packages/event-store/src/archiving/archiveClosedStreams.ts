import type { Queryable } from "@sluice/database";
import type { ArchiveReport } from "../types";

/**
 * Moves the events of up to `limit` closed streams, longest closed first, from `events` to
 * `archived_events`, and marks the streams archived: one statement, so one transaction. Streams
 * another call is archiving meanwhile are skipped, not waited for. A reader's statement sees each
 * event in exactly one of the two tables, at the same log position (transaction id and global
 * position are moved, not renumbered), so readers that read both (readStream, readAll) never miss
 * or repeat one. A closed stream takes no more events, so nothing lands in `events` after the move.
 */
export async function archiveClosedStreams(db: Queryable, { limit }: { limit: number }): Promise<ArchiveReport> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`archiveClosedStreams limit must be a positive integer, got ${limit}`);
  const { rows } = await db.query<{ streams: number; events: number }>(
    `with chosen as (
       select stream_id from event_streams
       where closed_at is not null and archived_at is null
       order by closed_at
       limit $1
       for update skip locked
     ), moved as (
       delete from events using chosen where events.stream_id = chosen.stream_id
       returning events.*
     ), archived as (
       -- archived_events is "like events": the same columns in the same order.
       insert into archived_events select * from moved returning 1
     ), marked as (
       update event_streams set archived_at = now() from chosen
       where event_streams.stream_id = chosen.stream_id
       returning 1
     )
     select (select count(*) from marked)::int as streams, (select count(*) from archived)::int as events`,
    [limit],
  );
  const row = rows[0]!;
  return { streams: row.streams, events: row.events };
}
