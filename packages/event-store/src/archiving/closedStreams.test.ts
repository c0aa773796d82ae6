import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isMessage } from "@bufbuild/protobuf";
import { RuleViolationSchema } from "@sluice/contracts/gen/sluice/v1/errors_pb";
import type { Database } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import { ErrorCode, RpcError } from "@sluice/rpc";
import { aggregateStream } from "../commandHandling/aggregateStream";
import type { Decider } from "../commandHandling/decider";
import { createEventStore, startOfLog } from "../eventStore";
import { streamClosedRule } from "../appendCommands";
import { accepted, appendOrderCreatedIn, metadata, newId, orderCreated, orderEdited } from "../testing/fixtures";
import type { EventStore, ExpectedVersion, LogPosition, RecordedEvent } from "../types";

const isStreamClosed = (streamId: string) => (e: unknown) =>
  e instanceof RpcError &&
  e.code === ErrorCode.FAILED_PRECONDITION &&
  e.message.includes(streamId) &&
  e.details.some((d) => isMessage(d, RuleViolationSchema) && d.rule === streamClosedRule);

/** The consignees of an order stream, in order: what the events say, folded. */
const consignees: Decider<string[]> = {
  streamType: "dispatch.order",
  initialState: () => [],
  evolve: (state, event) => [...state, (event as ReturnType<typeof orderEdited>).consignee],
  snapshot: { every: 2, version: 1 },
};

for (const backend of await testBackends()) {
  describe(`closed and archived streams on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;
    let store: EventStore;
    before(async () => {
      db = await backend.open();
      store = await createEventStore(db);
    });
    after(() => db?.close());

    const appendTo = (
      organizationId: string,
      streamId: string,
      {
        expectedVersion = "any",
        count = 1,
        close,
      }: { expectedVersion?: ExpectedVersion; count?: number; close?: boolean },
    ) =>
      store.append({
        organizationId,
        metadata: metadata(),
        appends: [
          {
            streamId,
            streamType: "dispatch.order",
            expectedVersion,
            events: Array.from({ length: count }, (_, i) => orderEdited(streamId, `v${i}`)),
            ...(close && { close }),
          },
        ],
        result: accepted(streamId),
      });

    async function rowsIn(table: "events" | "archived_events", streamId: string): Promise<number> {
      const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from ${table} where stream_id = $1`, [
        streamId,
      ]);
      return rows[0]!.n;
    }

    test("a closed stream refuses appends that add events, naming the stream", async () => {
      const org = newId();
      const streamId = newId();
      await appendTo(org, streamId, { expectedVersion: "no_stream", count: 2, close: true });
      assert.deepEqual(await store.readStream(org, streamId).then((s) => [s.version, s.closed]), [2n, true]);
      await assert.rejects(appendTo(org, streamId, { expectedVersion: 2n }), isStreamClosed(streamId));
      // Closed is checked before the version: the answer is the lasting one, not a conflict.
      await assert.rejects(appendTo(org, streamId, { expectedVersion: 1n }), isStreamClosed(streamId));
      // Closing again, and a version guard (an empty append), still go through and change nothing.
      await appendTo(org, streamId, { count: 0, close: true });
      await appendTo(org, streamId, { expectedVersion: 2n, count: 0 });
      const stream = await store.readStream(org, streamId);
      assert.deepEqual([stream.version, stream.closed, stream.events.length], [2n, true, 2]);
      // An open stream reads as open.
      const open = newId();
      await appendTo(org, open, {});
      assert.equal((await store.readStream(org, open)).closed, undefined);
    });

    test("in one batch only the command adding to a closed stream is refused", async () => {
      const org = newId();
      const [closed, closedNow, other] = [newId(), newId(), newId()];
      await appendTo(org, closed, { close: true });
      // Issued in one turn of the event loop: group commit sends them as one append_batch.
      const outcomes = await Promise.allSettled([
        appendTo(org, other, {}),
        appendTo(org, closed, {}),
        appendTo(org, closedNow, { close: true }),
        appendTo(org, closedNow, {}), // after the command closing it, in the same batch
        appendTo(org, other, {}),
      ]);
      const [first, second, third, fourth, fifth] = outcomes;
      assert.equal(first.status, "fulfilled");
      assert.equal(third.status, "fulfilled");
      assert.equal(fifth.status, "fulfilled");
      assert.equal(second.status, "rejected");
      assert.ok(isStreamClosed(closed)(second.reason), String(second.reason));
      assert.equal(fourth.status, "rejected");
      assert.ok(isStreamClosed(closedNow)(fourth.reason), String(fourth.reason));
      // One batch: the accepted commands share one transaction.
      const transactions = new Set(
        [first, third, fifth].map((o) => (o.status === "fulfilled" ? o.value.events[0]!.transactionId : 0n)),
      );
      assert.equal(transactions.size, 1);
      assert.equal((await store.readStream(org, other)).version, 2n);
      assert.deepEqual(await store.readStream(org, closedNow).then((s) => [s.version, s.closed]), [1n, true]);
      assert.equal((await store.readStream(org, closed)).version, 1n);
    });

    test("another organization can neither close nor read the stream", async () => {
      const [org, intruder] = [newId(), newId()];
      const streamId = newId();
      await appendTo(org, streamId, { expectedVersion: "no_stream" });
      await assert.rejects(
        appendTo(intruder, streamId, { count: 0, close: true }),
        (e: unknown) => e instanceof RpcError && e.code === ErrorCode.ALREADY_EXISTS,
      );
      const stream = await store.readStream(org, streamId);
      assert.deepEqual([stream.version, stream.closed], [1n, undefined]);
      await appendTo(org, streamId, { close: true });
      await store.archiveClosedStreams({ limit: 1000 });
      const seen = await store.readStream(intruder, streamId);
      assert.deepEqual([seen.version, seen.closed, seen.events.length], [0n, undefined, 0]);
      assert.equal((await store.readStream(org, streamId)).events.length, 2);
    });

    test("archiving moves a closed stream's rows; readStream and loading read it whole, in order", async () => {
      const org = newId();
      const [closed, open] = [newId(), newId()];
      await store.append({
        organizationId: org,
        metadata: metadata(),
        appends: [
          {
            streamId: closed,
            streamType: "dispatch.order",
            expectedVersion: "no_stream",
            events: [orderCreated(closed, "c0"), orderEdited(closed, "c1"), orderEdited(closed, "c2")],
          },
        ],
        result: accepted(closed),
      });
      await store.saveSnapshot(org, { streamId: closed, streamVersion: 2n, snapshotVersion: 1, state: ["c0", "c1"] });
      await appendTo(org, closed, { expectedVersion: 3n, count: 2, close: true });
      await appendTo(org, open, { count: 3 });
      const before = await store.readStream(org, closed);

      let report = await store.archiveClosedStreams({ limit: 1000 });
      assert.ok(report.streams >= 1 && report.events >= 5, JSON.stringify(report));
      assert.deepEqual([await rowsIn("events", closed), await rowsIn("archived_events", closed)], [0, 5]);
      assert.deepEqual([await rowsIn("events", open), await rowsIn("archived_events", open)], [3, 0]);
      report = await store.archiveClosedStreams({ limit: 1000 });
      assert.deepEqual(report, { streams: 0, events: 0 });

      const after = await store.readStream(org, closed);
      assert.deepEqual(after, before);
      assert.deepEqual(
        after.events.map((e) => e.streamVersion),
        [1n, 2n, 3n, 4n, 5n],
      );
      const tail = await store.readStream(org, closed, { fromVersion: 3n });
      assert.deepEqual(
        tail.events.map((e) => e.eventId),
        before.events.slice(3).map((e) => e.eventId),
      );
      // From the snapshot at 2, then the archived events after it.
      assert.deepEqual(await aggregateStream(store, org, closed, consignees), {
        state: ["c0", "c1", "c2", "v0", "v1"],
        version: 5n,
      });
      await assert.rejects(appendTo(org, closed, {}), isStreamClosed(closed));
      await assert.rejects(store.archiveClosedStreams({ limit: 0 }), RangeError);
    });

    test("a reader paging through the log while archiving runs misses and repeats nothing", async () => {
      const org = newId();
      const streams = Array.from({ length: 12 }, () => newId());
      // Interleaved: each stream's events are spread over the log, between other streams'.
      for (let round = 0; round < 3; round += 1) {
        await Promise.all(
          streams.map((streamId, i) => appendTo(org, streamId, { count: 2, close: round === 2 && i % 3 !== 0 })),
        );
      }
      const total = 12 * 6;
      const readOrg = async (onPage: () => Promise<unknown>): Promise<RecordedEvent[]> => {
        const seen: RecordedEvent[] = [];
        let position: LogPosition = startOfLog;
        for (;;) {
          const page = await store.readAll({ after: position, limit: 5 });
          if (page.length === 0) {
            if (seen.length >= total) return seen;
            // All of them committed before reading: an empty page short of them is a transaction
            // open elsewhere on the server (another test file) holding the log's horizon a moment.
            await new Promise((resolve) => setTimeout(resolve, 5));
            continue;
          }
          seen.push(...page.filter((e) => e.organizationId === org));
          const last = page.at(-1)!;
          position = { transactionId: last.transactionId, globalPosition: last.globalPosition };
          await onPage();
        }
      };
      const expected = await readOrg(async () => {});
      assert.equal(expected.length, total);

      // Archive one stream between every page the reader reads, and concurrently with its reads.
      let archived = 0;
      const concurrent = (async () => {
        for (;;) {
          const { streams: moved } = await store.archiveClosedStreams({ limit: 1 });
          if (moved === 0) return;
          archived += moved;
        }
      })();
      const during = await readOrg(async () => {
        const { streams: moved } = await store.archiveClosedStreams({ limit: 1 });
        archived += moved;
      });
      await concurrent;
      assert.equal(archived, 8);
      assert.deepEqual(
        during.map((e) => e.eventId),
        expected.map((e) => e.eventId),
      );
      assert.deepEqual(await readOrg(async () => {}), expected);
    });

    // Two real concurrent transactions need a server: PGlite is one connection.
    const onServer = backend.name === "postgres" ? test : undefined;
    onServer?.("an archived stream's events still wait behind an append in flight before them", async () => {
      const org = newId();
      const [early, late] = [newId(), newId()];
      let commitEarly!: () => void;
      const earlyMayCommit = new Promise<void>((resolve) => (commitEarly = resolve));
      let earlyAppended!: () => void;
      const earlyInFlight = new Promise<void>((resolve) => (earlyAppended = resolve));
      const head = (await store.readAll({ after: startOfLog, limit: 100_000 })).at(-1);
      const from: LogPosition = head ?? startOfLog;
      const readMine = async () =>
        (await store.readAll({ after: from, limit: 1000 })).filter((e) => e.organizationId === org);
      try {
        // The early transaction takes the lower transaction id and global position, then stays open.
        const earlyTransaction = db.transaction(async (tx) => {
          await appendOrderCreatedIn(tx, org, early);
          earlyAppended();
          await earlyMayCommit;
        });
        await earlyInFlight;
        await appendTo(org, late, { expectedVersion: "no_stream", count: 2, close: true });
        await store.archiveClosedStreams({ limit: 1000 });
        assert.equal(await rowsIn("archived_events", late), 2);
        // Archived, yet behind the open append: a reader passing it now would skip the early event.
        assert.deepEqual(await readMine(), []);
        commitEarly();
        await earlyTransaction;
        for (;;) {
          const mine = await readMine();
          if (mine.length < 3) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            continue;
          }
          assert.deepEqual(
            mine.map((e) => e.streamId),
            [early, late, late],
          );
          break;
        }
      } finally {
        commitEarly();
      }
    });
  });
}
