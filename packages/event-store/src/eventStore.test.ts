import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { isMessage } from "@bufbuild/protobuf";
import { OrderCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { VersionConflictSchema } from "@sluice/contracts/gen/sluice/v1/errors_pb";
import { openDatabase, type Database } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import { ErrorCode, RpcError } from "@sluice/rpc";
import { CommandAlreadyHandled } from "./errors";
import { startConsumer } from "./consumers/startConsumer";
import { createEventStore, startOfLog } from "./eventStore";
import {
  accepted,
  appendOrderCreatedIn,
  metadata,
  newId,
  orderCreated,
  orderEdited,
  readEverything,
  readOrganization,
} from "./testing/fixtures";
import type { EventStore, ExpectedVersion, LogPosition, RecordedEvent } from "./types";

for (const backend of await testBackends()) {
  describe(`event store on ${backend.name}`, { skip: backend.skip }, () => {
    // One database for the suite (PGlite takes seconds to start); each test uses its own ids.
    let db: Database;
    let store: EventStore;
    before(async () => {
      db = await backend.open();
      store = await createEventStore(db);
    });
    after(() => db?.close());

    const appendTo = (organizationId: string, streamId: string, expectedVersion: ExpectedVersion, count = 1) =>
      store.append({
        organizationId,
        metadata: metadata(),
        appends: [
          {
            streamId,
            streamType: "dispatch.order",
            expectedVersion,
            events: Array.from({ length: count }, (_, i) => orderEdited(streamId, `v${i}`)),
          },
        ],
        result: accepted(streamId),
      });

    test("append then readStream round-trips the Protobuf events and their metadata", async () => {
      const org = newId();
      const orderId = newId();
      const meta = metadata();
      const result = await store.append({
        organizationId: org,
        metadata: meta,
        appends: [
          {
            streamId: orderId,
            streamType: "dispatch.order",
            expectedVersion: "no_stream",
            events: [orderCreated(orderId), orderEdited(orderId, "Globex")],
          },
        ],
        result: accepted(orderId, 2n),
      });
      assert.equal(result.versions.get(orderId), 2n);

      const stream = await store.readStream(org, orderId);
      assert.equal(stream.version, 2n);
      assert.deepEqual(
        stream.events.map((e) => [e.streamVersion, e.type]),
        [
          [1n, "dispatch.v1.OrderCreated"],
          [2n, "dispatch.v1.OrderEdited"],
        ],
      );
      const first = stream.events[0]!;
      assert.ok(isMessage(first.data, OrderCreatedSchema));
      assert.equal(first.data.weightKg, 12.5);
      assert.deepEqual(first.metadata, meta);
      assert.equal(first.streamType, "dispatch.order");
      assert.equal(first.organizationId, org);
      assert.match(first.eventId, /^[0-9a-f-]{36}$/);
      assert.ok(first.occurredAt instanceof Date);
      assert.equal(stream.events[1]!.globalPosition, result.lastGlobalPosition);

      const later = await store.readStream(org, orderId, { fromVersion: 1n });
      assert.equal(later.version, 2n);
      assert.deepEqual(
        later.events.map((e) => e.streamVersion),
        [2n],
      );
      const none = await store.readStream(org, orderId, { fromVersion: 2n });
      assert.deepEqual([none.version, none.events.length], [2n, 0]);
    });

    test("a missing stream reads as empty at version 0", async () => {
      assert.deepEqual(await store.readStream(newId(), newId()), { version: 0n, events: [] });
    });

    test("every expected-version variant accepts the right version and refuses the others", async () => {
      const org = newId();
      const cases: [ExpectedVersion, bigint | "missing", boolean][] = [
        ["any", "missing", true],
        ["any", 2n, true],
        ["no_stream", "missing", true],
        ["no_stream", 1n, false],
        ["stream_exists", "missing", false],
        ["stream_exists", 1n, true],
        [0n, "missing", true],
        [2n, 2n, true],
        [1n, 2n, false],
        [3n, 2n, false],
      ];
      for (const [expected, existing, accepts] of cases) {
        const streamId = newId();
        if (existing !== "missing") await appendTo(org, streamId, "any", Number(existing));
        const attempt = appendTo(org, streamId, expected);
        const label = `${expected} on ${existing}`;
        if (accepts) await assert.doesNotReject(attempt, label);
        else
          await assert.rejects(attempt, (e: unknown) => e instanceof RpcError && e.code === ErrorCode.CONFLICT, label);
        const version = (await store.readStream(org, streamId)).version;
        const before = existing === "missing" ? 0n : existing;
        assert.equal(version, accepts ? before + 1n : before, label);
      }
    });

    test("a conflict is an RpcError CONFLICT with a VersionConflict detail", async () => {
      const org = newId();
      const streamId = newId();
      await appendTo(org, streamId, "no_stream", 3);
      const error = await appendTo(org, streamId, 1n).then(
        () => assert.fail("expected a conflict"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, ErrorCode.CONFLICT);
      assert.equal(error.retriable, true);
      const detail = error.details[0];
      assert.ok(detail && isMessage(detail, VersionConflictSchema));
      assert.deepEqual([detail.streamId, detail.expectedVersion, detail.actualVersion], [streamId, "1", 3n]);
    });

    test("one append is atomic across streams: a conflict on one writes nothing to any", async () => {
      const org = newId();
      const [a, b] = [newId(), newId()];
      await appendTo(org, b, "no_stream");
      const commandId = newId();
      await assert.rejects(
        store.append({
          organizationId: org,
          metadata: metadata(commandId),
          appends: [
            { streamId: a, streamType: "dispatch.order", expectedVersion: "no_stream", events: [orderCreated(a)] },
            { streamId: b, streamType: "dispatch.order", expectedVersion: 5n, events: [orderEdited(b, "x")] },
          ],
          result: accepted(),
        }),
        (e: unknown) => e instanceof RpcError && e.code === ErrorCode.CONFLICT,
      );
      assert.deepEqual(await store.readStream(org, a), { version: 0n, events: [] });
      assert.equal((await store.readStream(org, b)).version, 1n);
      assert.equal(await store.commandResult(org, commandId), undefined, "a refused command stores no result");

      const ok = await store.append({
        organizationId: org,
        metadata: metadata(commandId),
        appends: [
          { streamId: a, streamType: "dispatch.order", expectedVersion: "no_stream", events: [orderCreated(a)] },
          { streamId: b, streamType: "dispatch.order", expectedVersion: 1n, events: [orderEdited(b, "x")] },
        ],
        result: accepted(),
      });
      assert.deepEqual(
        [...ok.versions].sort(),
        [
          [a, 1n],
          [b, 2n],
        ].sort(),
      );
    });

    test("a command id is handled once per organization: a retry appends nothing and finds the stored result", async () => {
      const org = newId();
      const streamId = newId();
      const commandId = newId();
      const request = {
        organizationId: org,
        metadata: metadata(commandId),
        appends: [
          { streamId, streamType: "dispatch.order", expectedVersion: "any" as const, events: [orderCreated(streamId)] },
        ],
        result: accepted(streamId, 1n),
      };
      await store.append(request);
      await assert.rejects(
        store.append(request),
        (e: unknown) => e instanceof CommandAlreadyHandled && e.commandId === commandId,
      );
      assert.equal((await store.readStream(org, streamId)).version, 1n);
      assert.deepEqual(await store.commandResult(org, commandId), accepted(streamId, 1n));
      // The same command id in another organization is another command.
      assert.equal(await store.commandResult(newId(), commandId), undefined);
      const other = newId();
      await store.append({
        ...request,
        organizationId: other,
        appends: [{ ...request.appends[0]!, streamId: newId() }],
      });
      // Without a command id there is nothing to be idempotent on: refused before touching the database.
      await assert.rejects(store.append({ ...request, metadata: { ...request.metadata, commandId: "" } }), /commandId/);
    });

    test("concurrent retries of one command: exactly one appends", async () => {
      const org = newId();
      const streamId = newId();
      const request = {
        organizationId: org,
        metadata: metadata(),
        appends: [
          { streamId, streamType: "dispatch.order", expectedVersion: "any" as const, events: [orderCreated(streamId)] },
        ],
        result: accepted(streamId, 1n),
      };
      const outcomes = await Promise.allSettled([store.append(request), store.append(request), store.append(request)]);
      assert.equal(outcomes.filter((o) => o.status === "fulfilled").length, 1);
      for (const o of outcomes) if (o.status === "rejected") assert.ok(o.reason instanceof CommandAlreadyHandled);
      assert.equal((await store.readStream(org, streamId)).version, 1n);
    });

    test("events stored in an older shape are upcast on read, through a chain of upcasters", async () => {
      // A database of its own: the old rows would be unreadable to the other tests' stores.
      const own = await backend.open();
      const plain = await createEventStore(own);
      const org = newId();
      const orderId = newId();
      // Two releases ago an order was "placed" with its weight in grams; one release ago, in
      // kilograms under another name; today it is dispatch.v1.OrderCreated. Stored as written then.
      await own.query(
        `insert into event_streams (stream_id, organization_id, stream_type, version) values ($1, $2, 'dispatch.order', 2)`,
        [orderId, org],
      );
      await own.query(
        `insert into events (organization_id, stream_id, stream_type, stream_version, type, data, metadata)
         values ($1, $2, 'dispatch.order', 1, 'legacy.OrderPlaced', $3::jsonb, $5::jsonb),
                ($1, $2, 'dispatch.order', 2, 'legacy.v2.OrderPlaced', $4::jsonb, $5::jsonb)`,
        [
          org,
          orderId,
          JSON.stringify({ order: orderId, customer: "ACME", grams: 12500 }),
          JSON.stringify({ order: orderId, customer: "Globex", kilograms: 7 }),
          JSON.stringify(metadata()),
        ],
      );
      const upcasting = await createEventStore(own, {
        upcasters: [
          {
            from: "legacy.OrderPlaced",
            to: "legacy.v2.OrderPlaced",
            upcast: (data) => {
              const { order, customer, grams } = data as { order: string; customer: string; grams: number };
              return { order, customer, kilograms: grams / 1000 };
            },
          },
          {
            from: "legacy.v2.OrderPlaced",
            to: "dispatch.v1.OrderCreated",
            upcast: (data) => {
              const { order, customer, kilograms } = data as { order: string; customer: string; kilograms: number };
              return { orderId: order, consignee: customer, weightKg: kilograms };
            },
          },
        ],
      });
      const { events } = await upcasting.readStream(org, orderId);
      assert.deepEqual(
        events.map((e) => [e.type, isMessage(e.data, OrderCreatedSchema) && [e.data.consignee, e.data.weightKg]]),
        [
          ["dispatch.v1.OrderCreated", ["ACME", 12.5]],
          ["dispatch.v1.OrderCreated", ["Globex", 7]],
        ],
      );
      const logged = await readOrganization(upcasting, org, 2);
      assert.deepEqual(
        logged.map((e) => e.type),
        ["dispatch.v1.OrderCreated", "dispatch.v1.OrderCreated"],
      );
      // Without the upcasters the old types are unknown: refused loudly, never misread.
      await assert.rejects(plain.readStream(org, orderId), /legacy.OrderPlaced is not in the event store's registry/);
      await assert.rejects(
        createEventStore(own, {
          upcasters: [
            { from: "a", to: "b", upcast: (d) => d },
            { from: "a", to: "c", upcast: (d) => d },
          ],
        }),
        /two upcasters read a/,
      );
      await own.close();
    });

    test("appends look commands and streams up by index, however small the tables were when planned", async () => {
      // append_commands keeps its plans per connection. Made while the tables are nearly empty, a
      // plan free to choose scans whole tables, and every later append reads every command ever
      // recorded. Counted in one transaction, past the first plans (a cached one from the sixth call on).
      const fresh = await backend.open();
      try {
        await createEventStore(fresh);
        const scans = await fresh.transaction(async (tx) => {
          // Counted before and after: PGlite's counts hold the statements of the store's start too.
          const seqScans = async () => {
            const { rows } = await tx.query<{ relname: string; seq_scan: bigint }>(
              `select relname, seq_scan from pg_stat_xact_user_tables
               where schemaname = current_schema() and relname in ('command_results', 'event_streams')
               order by relname`,
            );
            return rows.map((row) => [row.relname, Number(row.seq_scan)] as const);
          };
          const before = await seqScans();
          const org = newId();
          for (let i = 0; i < 12; i++) await appendOrderCreatedIn(tx, org, newId());
          const after = await seqScans();
          return after.map(([table, count], i) => [table, count - (before[i]?.[1] ?? 0)]);
        });
        assert.deepEqual(scans, [
          ["command_results", 0],
          ["event_streams", 0],
        ]);
      } finally {
        await fresh.close();
      }
    });

    test("50 concurrent writers on one stream: one winner per version, the others typed conflicts", async () => {
      const org = newId();
      const streamId = newId();
      const writers = 50;
      let conflicts = 0;
      const won = await Promise.all(
        Array.from({ length: writers }, async (_, writer) => {
          for (;;) {
            const { version } = await store.readStream(org, streamId);
            try {
              const result = await store.append({
                organizationId: org,
                metadata: metadata(),
                appends: [
                  {
                    streamId,
                    streamType: "dispatch.order",
                    expectedVersion: version === 0n ? "no_stream" : version,
                    events: [orderEdited(streamId, `writer ${writer}`)],
                  },
                ],
                result: accepted(streamId),
              });
              return result.versions.get(streamId)!;
            } catch (error) {
              assert.ok(error instanceof RpcError && error.code === ErrorCode.CONFLICT, String(error));
              conflicts += 1;
            }
          }
        }),
      );
      // Every writer won exactly one version, and no two the same one.
      assert.deepEqual(
        [...won].sort((a, b) => Number(a - b)),
        Array.from({ length: writers }, (_, i) => BigInt(i + 1)),
      );
      assert.ok(conflicts > 0, "the writers raced");
      const stream = await store.readStream(org, streamId);
      assert.deepEqual(
        stream.events.map((e) => e.streamVersion),
        won.toSorted((a, b) => Number(a - b)),
      );
    });

    test("appends sent together go as one batch, each judged as if alone, in the order sent", async () => {
      // One batch in flight at a time (PGlite's default; a server's is 4), so the order is the one sent.
      const oneAtATime = await createEventStore(db, { appendConcurrency: 1 });
      const org = newId();
      const [shared, other, foreign] = [newId(), newId(), newId()];
      await appendTo(newId(), foreign, "no_stream");
      const second = metadata();
      const append = (streamId: string, expectedVersion: ExpectedVersion, meta = metadata()) =>
        oneAtATime.append({
          organizationId: org,
          metadata: meta,
          appends: [{ streamId, streamType: "dispatch.order", expectedVersion, events: [orderEdited(streamId, "x")] }],
          result: accepted(streamId),
        });
      // Sent in one turn of the event loop, they go as one batch: one statement, one transaction.
      const outcomes = await Promise.allSettled([
        append(shared, "no_stream"),
        append(shared, 1n, second),
        append(shared, 1n), // the second left the stream at 2
        append(other, "no_stream", second), // the second's command id again: a retry of it
        append(other, "no_stream"),
        append(foreign, "any"), // another organization's stream
        append(other, 1n),
      ]);
      const summary = outcomes.map((o) =>
        o.status === "fulfilled"
          ? `ok ${[...o.value.versions.values()].join()}`
          : o.reason instanceof CommandAlreadyHandled
            ? "handled"
            : o.reason instanceof RpcError
              ? ErrorCode[o.reason.code]
              : String(o.reason),
      );
      assert.deepEqual(summary, ["ok 1", "ok 2", "CONFLICT", "handled", "ok 1", "ALREADY_EXISTS", "ok 2"]);
      const transactions = outcomes.flatMap((o) =>
        o.status === "fulfilled" ? o.value.events.map((event) => event.transactionId) : [],
      );
      assert.equal(new Set(transactions).size, 1, "the accepted commands committed together");
      const positions = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value.lastGlobalPosition] : []));
      assert.deepEqual(
        positions,
        [...positions].sort((a, b) => (a < b ? -1 : 1)),
      );
      assert.equal((await store.readStream(org, shared)).version, 2n);
      assert.deepEqual(
        (await store.readStream(org, other)).events.map((e) => [e.streamVersion, e.globalPosition]),
        [
          [1n, positions[2]],
          [2n, positions[3]],
        ],
      );
    });

    test("an append returns its events as readers of the log read them", async () => {
      const org = newId();
      const [order, project] = [newId(), newId()];
      const result = await store.append({
        organizationId: org,
        metadata: metadata(),
        appends: [
          { streamId: project, streamType: "dispatch.project", expectedVersion: "any", events: [] },
          {
            streamId: order,
            streamType: "dispatch.order",
            expectedVersion: "no_stream",
            events: [orderCreated(order), orderEdited(order, "B"), orderEdited(order, "C")],
          },
        ],
        result: accepted(order),
      });
      const read = await readOrganization(store, org, 3);
      assert.deepEqual(result.events, read);
      assert.equal(result.lastGlobalPosition, read.at(-1)!.globalPosition);
    });

    test("commands of one batch may all name one stream, as orders of one project guard it", async () => {
      const org = newId();
      const project = newId();
      await appendTo(org, project, "no_stream");
      const results = await Promise.all(
        Array.from({ length: 12 }, () => {
          const order = newId();
          return store.append({
            organizationId: org,
            metadata: metadata(),
            appends: [
              { streamId: project, streamType: "dispatch.order", expectedVersion: 1n, events: [] },
              {
                streamId: order,
                streamType: "dispatch.order",
                expectedVersion: "no_stream",
                events: [orderCreated(order)],
              },
            ],
            result: accepted(order),
          });
        }),
      );
      assert.equal(new Set(results.map((r) => r.events[0]!.transactionId)).size, 1, "one batch, one transaction");
      assert.equal((await store.readStream(org, project)).version, 1n);
    });

    test("onCommitted hears each batch once committed, in log order, before its callers hear back", async () => {
      const heard: RecordedEvent[][] = [];
      const stop = store.onCommitted((events) => heard.push([...events]));
      try {
        const org = newId();
        const first = appendTo(org, newId(), "no_stream", 2);
        const second = appendTo(org, newId(), "no_stream");
        const [a, b] = await Promise.all([
          first.then((result) => ({ result, heardBy: heard.flat().length })),
          second.then((result) => ({ result, heardBy: heard.flat().length })),
        ]);
        const mine = heard.flat().filter((event) => event.organizationId === org);
        assert.deepEqual(mine, [...a.result.events, ...b.result.events]);
        assert.ok(a.heardBy >= 2 && b.heardBy >= 3, "heard before the append resolved");
      } finally {
        stop();
      }
      assert.equal(store.soleWriter, backend.name === "pglite");
    });

    test("another organization's stream reads as empty and cannot be appended to", async () => {
      const [mine, theirs] = [newId(), newId()];
      const streamId = newId();
      await appendTo(mine, streamId, "no_stream", 2);
      assert.deepEqual(await store.readStream(theirs, streamId), { version: 0n, events: [] });
      await assert.rejects(
        appendTo(theirs, streamId, "any"),
        (e: unknown) => e instanceof RpcError && e.code === ErrorCode.ALREADY_EXISTS,
      );
      assert.equal((await store.readStream(mine, streamId)).version, 2n);
    });

    test("a stream keeps its type: an append naming another type is refused", async () => {
      const org = newId();
      const streamId = newId();
      await appendTo(org, streamId, "no_stream");
      const asRoute = store.append({
        organizationId: org,
        metadata: metadata(),
        appends: [
          { streamId, streamType: "dispatch.route", expectedVersion: "any", events: [orderEdited(streamId, "x")] },
        ],
        result: accepted(),
      });
      await assert.rejects(
        asRoute,
        (e: unknown) =>
          e instanceof RpcError && e.code === ErrorCode.ALREADY_EXISTS && /not a dispatch.route/.test(e.message),
      );
      assert.equal((await store.readStream(org, streamId)).version, 1n);
    });

    test("readAll returns the log in append order, in batches, each event once", async () => {
      const org = newId();
      const head = await readEverything(store);
      const [a, b] = [newId(), newId()];
      await store.append({
        organizationId: org,
        metadata: metadata(),
        appends: [
          {
            streamId: a,
            streamType: "dispatch.order",
            expectedVersion: "no_stream",
            events: [orderCreated(a, "a1"), orderEdited(a, "a2")],
          },
          { streamId: b, streamType: "dispatch.order", expectedVersion: "no_stream", events: [orderCreated(b, "b1")] },
        ],
        result: accepted(),
      });
      await appendTo(org, a, 2n, 2);
      const last = head.at(-1);
      const after = last ? { transactionId: last.transactionId, globalPosition: last.globalPosition } : startOfLog;
      const mineOnly = await readOrganization(store, org, 5, after);
      assert.deepEqual(
        mineOnly.map((e) => [e.streamId, e.streamVersion]),
        [
          [a, 1n],
          [a, 2n],
          [b, 1n],
          [a, 3n],
          [a, 4n],
        ],
      );
      const positions = mineOnly.map((e) => e.globalPosition);
      assert.deepEqual(
        positions,
        [...positions].sort((x, y) => (x < y ? -1 : 1)),
      );
      // Batches of one see the same sequence.
      let cursor: LogPosition = after;
      const oneByOne: bigint[] = [];
      for (
        let batch = await store.readAll({ after: cursor, limit: 1 });
        batch.length > 0;
        batch = await store.readAll({ after: cursor, limit: 1 })
      ) {
        const event = batch[0]!;
        if (event.organizationId === org) oneByOne.push(event.globalPosition);
        cursor = { transactionId: event.transactionId, globalPosition: event.globalPosition };
      }
      assert.deepEqual(oneByOne, positions);
    });

    // Two real concurrent transactions need a server: PGlite is one connection, so the test
    // exists for the server backend only.
    const onServer = backend.name === "postgres" ? test : undefined;
    onServer?.("readAll never passes an append still in flight, even when a later one commits first", async () => {
      const org = newId();
      const [early, late] = [newId(), newId()];
      const head = (await readEverything(store)).at(-1);
      const from: LogPosition = head
        ? { transactionId: head.transactionId, globalPosition: head.globalPosition }
        : startOfLog;
      const consumer = startConsumer(db, store, {
        name: `ooo-${newId()}`,
        handle: async (events) => void seen.push(...events),
      });
      const seen: RecordedEvent[] = [];
      let commitEarly!: () => void;
      const earlyMayCommit = new Promise<void>((resolve) => (commitEarly = resolve));
      let earlyAppended!: () => void;
      const earlyInFlight = new Promise<void>((resolve) => (earlyAppended = resolve));
      try {
        // The early transaction starts first and takes the lower global position, then stays open.
        const earlyTransaction = db.transaction(async (tx) => {
          await appendOrderCreatedIn(tx, org, early);
          earlyAppended();
          await earlyMayCommit;
        });
        await earlyInFlight;
        const lateResult = await appendTo(org, late, "no_stream");
        // The late append is committed, yet neither readAll nor the consumer may pass the early one.
        assert.equal((await store.readStream(org, late)).version, 1n);
        assert.deepEqual(
          (await readEverything(store, from)).filter((e) => e.organizationId === org),
          [],
        );
        commitEarly();
        await earlyTransaction;

        const mine = await readOrganization(store, org, 2, from);
        assert.deepEqual(
          mine.map((e) => e.streamId),
          [early, late],
        );
        assert.ok(mine[0]!.globalPosition < mine[1]!.globalPosition);
        await consumer.caughtUp(lateResult.lastGlobalPosition);
        await consumer.caughtUp();
        assert.deepEqual(
          seen.filter((e) => e.organizationId === org).map((e) => e.streamId),
          [early, late],
        );
      } finally {
        commitEarly();
        await consumer.stop();
      }
    });

    test("waitForAppend wakes on an append in this process, and on abort", async () => {
      const controller = new AbortController();
      const woken = store.waitForAppend(controller.signal);
      await appendTo(newId(), newId(), "any");
      await woken;
      controller.abort();
      await store.waitForAppend(controller.signal);
    });
  });
}

test("idempotency survives closing and reopening a PGlite data dir", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sluice-es-"));
  try {
    const org = newId();
    const streamId = newId();
    const commandId = newId();
    const request = {
      organizationId: org,
      metadata: metadata(commandId),
      appends: [
        {
          streamId,
          streamType: "dispatch.order",
          expectedVersion: "no_stream" as const,
          events: [orderCreated(streamId)],
        },
      ],
      result: accepted(streamId, 1n),
    };
    const first = await openDatabase({ kind: "pglite", dataDir: dir });
    await (await createEventStore(first)).append(request);
    await first.close();

    const second = await openDatabase({ kind: "pglite", dataDir: dir });
    try {
      const store = await createEventStore(second);
      await assert.rejects(store.append(request), CommandAlreadyHandled);
      assert.deepEqual(await store.commandResult(org, commandId), accepted(streamId, 1n));
      assert.equal((await store.readStream(org, streamId)).version, 1n);
    } finally {
      await second.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
