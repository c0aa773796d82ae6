import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { openDatabase, type Database } from "@sluice/database";
import { createEventStore, startOfLog } from "../eventStore";
import { accepted, metadata, newId, orderEdited } from "../testing/fixtures";
import type { EventStore, LogPosition, RecordedEvent } from "../types";
import { tailLog } from "./logTail";

let db: Database;
let store: EventStore;
before(async () => {
  db = await openDatabase({ kind: "pglite" });
  store = await createEventStore(db);
});
after(() => db?.close());

const append = (count: number) =>
  store.append({
    organizationId: newId(),
    metadata: metadata(),
    appends: [
      {
        streamId: newId(),
        streamType: "dispatch.order",
        expectedVersion: "any",
        events: Array.from({ length: count }, (_, i) => orderEdited(newId(), `v${i}`)),
      },
    ],
    result: accepted(),
  });

/** The store, counting its reads of the database. */
function counted(): { store: EventStore; reads: () => number } {
  let reads = 0;
  return {
    store: {
      ...store,
      readAll: (options) => {
        reads += 1;
        return store.readAll(options);
      },
    },
    reads: () => reads,
  };
}

const placeOf = (event: RecordedEvent): LogPosition => ({
  transactionId: event.transactionId,
  globalPosition: event.globalPosition,
});

async function readToEnd(tail: ReturnType<typeof tailLog>, from: LogPosition): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for (let after = from; ;) {
    const page = await tail.read(after, 4);
    all.push(...page);
    if (page.length < 4) return all;
    after = placeOf(page.at(-1)!);
  }
}

test("on PGlite a tail reads the database until drained, then serves what this process commits from memory", async () => {
  await append(6);
  const { store: countedStore, reads } = counted();
  const tail = tailLog(countedStore);
  try {
    const history = await readToEnd(tail, startOfLog);
    assert.deepEqual(history, await store.readAll({ after: startOfLog, limit: 10_000 }));
    const readsToDrain = reads();

    const appended = [...(await append(3)).events, ...(await append(2)).events];
    const served = await readToEnd(tail, placeOf(history.at(-1)!));
    assert.deepEqual(served, appended);
    assert.equal(reads(), readsToDrain, "served from memory, not read back");

    // Going back before what memory has handed out reads the database again, and gets the same.
    const again = await readToEnd(tail, placeOf(history.at(-1)!));
    assert.deepEqual(again, appended);
    assert.ok(reads() > readsToDrain);
  } finally {
    tail.close();
  }
});

test("a tail that falls behind by more than it may hold reads the database again, missing nothing", async () => {
  const start = (await append(1)).events[0]!;
  const tail = tailLog(store, { maxHeld: 3 });
  try {
    await readToEnd(tail, placeOf(start));
    const appended = [...(await append(2)).events, ...(await append(2)).events, ...(await append(1)).events];
    assert.deepEqual(await readToEnd(tail, placeOf(start)), appended);
  } finally {
    tail.close();
  }
});
