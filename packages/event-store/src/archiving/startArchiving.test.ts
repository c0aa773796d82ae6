import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Database } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import { createEventStore } from "../eventStore";
import { accepted, metadata, newId, orderEdited } from "../testing/fixtures";
import type { ArchiveReport, EventStore } from "../types";
import { startArchiving } from "./startArchiving";

for (const backend of await testBackends()) {
  describe(`periodic archiving on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;
    let store: EventStore;
    before(async () => {
      db = await backend.open();
      store = await createEventStore(db);
    });
    after(() => db?.close());

    test("moves every closed stream, a batch at a time, and stops cleanly", async () => {
      const org = newId();
      const streams = Array.from({ length: 5 }, () => newId());
      await Promise.all(
        streams.map((streamId, i) =>
          store.append({
            organizationId: org,
            metadata: metadata(),
            appends: [
              {
                streamId,
                streamType: "dispatch.order",
                expectedVersion: "no_stream",
                events: [orderEdited(streamId, "a"), orderEdited(streamId, "b")],
                close: i !== 0,
              },
            ],
            result: accepted(streamId),
          }),
        ),
      );
      const reports: ArchiveReport[] = [];
      const errors: unknown[] = [];
      let heard!: () => void;
      const archived = new Promise<void>((resolve) => (heard = resolve));
      const archiving = startArchiving(store, {
        intervalMs: 10,
        batchSize: 2,
        onError: (error) => errors.push(error),
        onArchived: (report) => {
          reports.push(report);
          heard();
        },
      });
      await archived;
      await archiving.stop();
      assert.deepEqual(errors, []);
      assert.deepEqual(reports, [{ streams: 4, events: 8 }]);
      const { rows } = await db.query<{ stream_id: string }>("select distinct stream_id from events");
      assert.deepEqual(
        rows.map((r) => r.stream_id),
        [streams[0]],
      );
      for (const streamId of streams) assert.equal((await store.readStream(org, streamId)).events.length, 2, streamId);
    });

    test("refuses an interval that is not a positive integer", () => {
      assert.throws(() => startArchiving(store, { intervalMs: 0, batchSize: 1, onError: () => {} }), RangeError);
    });
  });
}
