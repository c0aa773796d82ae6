import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { create, isMessage, type Message } from "@bufbuild/protobuf";
import { OrderCancelledSchema, OrderCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { RuleViolationSchema } from "@sluice/contracts/gen/sluice/v1/errors_pb";
import { openDatabase, type Database } from "@sluice/database";
import { postgresTestUrl, testBackends } from "@sluice/database/testing";
import { ErrorCode, RpcError } from "@sluice/rpc";
import pg from "pg";
import { createEventStore } from "../eventStore";
import { accepted, metadata, newId, orderCreated, orderEdited, readOrganization } from "../testing/fixtures";
import type { EventStore } from "../types";
import { PersonalDataConfigError, PersonalDataIntegrityError } from "./errors";
import { parseMasterKey } from "./masterKey";
import { subjectErasedRule } from "./personalData";

/** Appends one event to an order's stream (named by the bare order id, the events' data subject). */
function appendTo<M extends Message>(store: EventStore, org: string, orderId: string, event: M) {
  return store.append({
    organizationId: org,
    metadata: metadata(),
    appends: [{ streamId: orderId, streamType: "dispatch.order", expectedVersion: "any", events: [event] }],
    result: accepted(orderId),
  });
}

async function rawData(db: Database, streamId: string): Promise<string[]> {
  const { rows } = await db.query<{ data: string }>(
    "select data::text as data from events where stream_id = $1 order by stream_version",
    [streamId],
  );
  return rows.map((row) => row.data);
}

/** What a reader gets of an order's first event: consignee, address and the erasure marker. */
async function firstOrderEvent(store: EventStore, org: string, orderId: string) {
  const event = (await store.readStream(org, orderId)).events[0]?.data;
  assert.ok(event && isMessage(event, OrderCreatedSchema));
  return { consignee: event.consignee, address: event.address, erased: event.personalDataErased };
}

for (const backend of await testBackends()) {
  describe(`personal data on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;
    let store: EventStore;
    before(async () => {
      db = await backend.open();
      store = await createEventStore(db);
    });
    after(() => db?.close());

    test("personal fields are encrypted at rest and read back in the clear", async () => {
      const org = newId();
      const orderId = newId();
      await appendTo(store, org, orderId, orderCreated(orderId, "Jane Roe"));
      await appendTo(store, org, orderId, orderEdited(orderId, "Jane Doe-Roe"));
      const stored = await rawData(db, orderId);
      assert.equal(stored.length, 2);
      for (const data of stored) {
        assert.doesNotMatch(data, /Jane|Roe|Main St/);
        assert.match(data, /"consignee": "pd1:/);
        // What is not personal stays readable, for SQL and for people.
        assert.match(data, /"weightKg": 12.5/);
      }
      assert.deepEqual(await firstOrderEvent(store, org, orderId), {
        consignee: "Jane Roe",
        address: "Main St 1",
        erased: false,
      });
      const logged = await readOrganization(store, org, 2);
      assert.deepEqual(
        logged.map((event) => (event.data as unknown as { consignee: string }).consignee),
        ["Jane Roe", "Jane Doe-Roe"],
      );
      // The caller's messages are not changed by sealing.
      const event = orderCreated(orderId, "Kept In Memory");
      await appendTo(store, org, newId(), { ...event, orderId: newId() });
      assert.equal(event.consignee, "Kept In Memory");
    });

    test("erasing a subject makes its fields read empty and marked in every event; other subjects are untouched", async () => {
      const org = newId();
      const [erased, kept] = [newId(), newId()];
      await appendTo(store, org, erased, orderCreated(erased, "Jane Roe"));
      await appendTo(store, org, erased, create(OrderCancelledSchema, { orderId: erased, reason: "Jane moved away" }));
      await appendTo(store, org, kept, orderCreated(kept, "John Poe"));
      await store.erasePersonalData(org, erased);

      assert.deepEqual(await firstOrderEvent(store, org, erased), { consignee: "", address: "", erased: true });
      const cancelled = (await store.readStream(org, erased)).events[1]?.data;
      assert.ok(cancelled && isMessage(cancelled, OrderCancelledSchema));
      assert.deepEqual([cancelled.reason, cancelled.personalDataErased], ["", true]);
      assert.deepEqual(await firstOrderEvent(store, org, kept), {
        consignee: "John Poe",
        address: "Main St 1",
        erased: false,
      });
      const logged = await readOrganization(store, org, 3);
      assert.deepEqual(
        logged.map((event) => [
          event.streamId,
          (event.data as unknown as { personalDataErased: boolean }).personalDataErased,
        ]),
        [
          [erased, true],
          [erased, true],
          [kept, false],
        ],
      );
      // The key is gone from the table; the ciphertext stays and is useless.
      const { rows } = await db.query<{ wrapped: boolean; erased: boolean }>(
        `select wrapped_key is not null as wrapped, erased_at is not null as erased
         from data_subject_keys where organization_id = $1 and subject_id = $2`,
        [org, erased],
      );
      assert.deepEqual(rows, [{ wrapped: false, erased: true }]);
      // Erasing again changes nothing and fails nothing.
      await store.erasePersonalData(org, erased);
      assert.deepEqual(await firstOrderEvent(store, org, erased), { consignee: "", address: "", erased: true });
    });

    test("an erased subject's personal data is refused from then on; its events without any still go in", async () => {
      const org = newId();
      const orderId = newId();
      await appendTo(store, org, orderId, orderCreated(orderId, "Jane Roe"));
      await store.erasePersonalData(org, orderId);
      await assert.rejects(appendTo(store, org, orderId, orderEdited(orderId, "Jane Again")), (error: unknown) => {
        assert.ok(error instanceof RpcError && error.code === ErrorCode.FAILED_PRECONDITION);
        const rule = error.details.find((detail) => isMessage(detail, RuleViolationSchema));
        assert.equal(rule && isMessage(rule, RuleViolationSchema) && rule.rule, subjectErasedRule);
        return true;
      });
      await appendTo(store, org, orderId, { ...orderEdited(orderId, ""), address: "" });
      assert.equal((await store.readStream(org, orderId)).version, 2n);
      // A writer cannot mark an event erased: the marker is the store's to set on read.
      const other = newId();
      await appendTo(store, org, other, { ...orderCreated(other, "John Poe"), personalDataErased: true });
      assert.deepEqual(await firstOrderEvent(store, org, other), {
        consignee: "John Poe",
        address: "Main St 1",
        erased: false,
      });
    });

    test("erasure is per organization: another organization's erasure of the same id erases nothing", async () => {
      const [org, other] = [newId(), newId()];
      const orderId = newId();
      await appendTo(store, org, orderId, orderCreated(orderId, "Jane Roe"));
      await store.erasePersonalData(other, orderId);
      assert.deepEqual(await firstOrderEvent(store, org, orderId), {
        consignee: "Jane Roe",
        address: "Main St 1",
        erased: false,
      });
      // Nor can another organization read the stream at all.
      assert.equal((await store.readStream(other, orderId)).events.length, 0);
    });

    test("erasure drops the organization's snapshots, which may hold the subject's data opened", async () => {
      const [org, other] = [newId(), newId()];
      const snapshot = { streamId: newId(), streamVersion: 5n, snapshotVersion: 1, state: { consignee: "Jane Roe" } };
      const othersSnapshot = { ...snapshot, streamId: newId() };
      await store.saveSnapshot(org, snapshot);
      await store.saveSnapshot(other, othersSnapshot);
      await store.erasePersonalData(org, newId());
      assert.equal(await store.readSnapshot(org, snapshot.streamId), undefined);
      assert.deepEqual(await store.readSnapshot(other, othersSnapshot.streamId), othersSnapshot);
    });

    test("another process sees an erasure once its cached key expires (at once with no cache)", async () => {
      const org = newId();
      const orderId = newId();
      const uncached = await createEventStore(db, { personalData: { cacheMs: 0 } });
      await appendTo(store, org, orderId, orderCreated(orderId, "Jane Roe"));
      assert.equal((await firstOrderEvent(uncached, org, orderId)).consignee, "Jane Roe");
      await store.erasePersonalData(org, orderId);
      assert.deepEqual(await firstOrderEvent(uncached, org, orderId), { consignee: "", address: "", erased: true });
    });

    test("a new subject's key is stored by its first append, in the append's own transaction", async () => {
      const org = newId();
      const orderId = newId();
      const [event] = (await appendTo(store, org, orderId, orderCreated(orderId, "Jane Roe"))).events;
      const { rows } = await db.query<{ sameTransaction: boolean }>(
        `select k.xmin = $3::text::xid8::xid as "sameTransaction"
         from data_subject_keys k where organization_id = $1 and subject_id = $2`,
        [org, orderId, event!.transactionId.toString()],
      );
      assert.deepEqual(rows, [{ sameTransaction: true }]);
    });

    test("a store without the subject's key cached seals under the key stored, not a new one", async () => {
      const org = newId();
      const orderId = newId();
      // No cache: each of its appends proposes a new key, which the stored one wins over.
      const uncached = await createEventStore(db, { personalData: { cacheMs: 0 } });
      await appendTo(store, org, orderId, orderCreated(orderId, "Jane Roe"));
      await appendTo(uncached, org, orderId, orderEdited(orderId, "Jane Doe-Roe"));
      // Both from scratch at once: one key stored, each append sealed under it.
      const shared = newId();
      await Promise.all([
        appendTo(store, org, newId(), orderCreated(shared, "John Poe")),
        appendTo(uncached, org, newId(), orderEdited(shared, "John Doe-Poe")),
      ]);
      for (const reader of [store, uncached]) {
        const consignees = (await readOrganization(reader, org, 4)).map(
          (e) => (e.data as unknown as { consignee: string }).consignee,
        );
        assert.deepEqual(consignees.slice(0, 2), ["Jane Roe", "Jane Doe-Roe"]);
        assert.deepEqual(new Set(consignees.slice(2)), new Set(["John Poe", "John Doe-Poe"]));
      }
      const { rows } = await db.query<{ keys: number }>(
        "select count(*)::int as keys from data_subject_keys where organization_id = $1",
        [org],
      );
      assert.deepEqual(rows, [{ keys: 2 }]);
    });

    test("a store that has not seen the erasure is refused the subject's personal data all the same", async () => {
      const org = newId();
      const orderId = newId();
      const uncached = await createEventStore(db, { personalData: { cacheMs: 0 } });
      await appendTo(store, org, orderId, orderCreated(orderId, "Jane Roe"));
      await store.erasePersonalData(org, orderId);
      await assert.rejects(
        appendTo(uncached, org, orderId, orderEdited(orderId, "Jane Again")),
        (error: unknown) => error instanceof RpcError && error.code === ErrorCode.FAILED_PRECONDITION,
      );
      assert.equal((await rawData(db, orderId)).length, 1);
    });

    test("an altered ciphertext is an integrity error, never a silent empty field", async () => {
      const org = newId();
      const orderId = newId();
      await appendTo(store, org, orderId, orderCreated(orderId, "Jane Roe"));
      const [data] = await rawData(db, orderId);
      const sealed = (JSON.parse(data!) as { consignee: string }).consignee;
      // A character inside the ciphertext (not base64's padding bits) changed.
      const flipped = sealed.slice(0, 20) + (sealed[20] === "A" ? "B" : "A") + sealed.slice(21);
      await db.query(
        `update events set data = jsonb_set(data, '{consignee}', to_jsonb($2::text)) where stream_id = $1`,
        [orderId, flipped],
      );
      await assert.rejects(store.readStream(org, orderId), PersonalDataIntegrityError);
    });

    test("a master key that is not the database's is refused at start, with the reason", async () => {
      const fresh = await backend.open();
      try {
        const key = randomBytes(32);
        const first = await createEventStore(fresh, { personalData: { masterKey: key } });
        const org = newId();
        const orderId = newId();
        await appendTo(first, org, orderId, orderCreated(orderId, "Jane Roe"));
        await assert.rejects(
          createEventStore(fresh, { personalData: { masterKey: randomBytes(32) } }),
          (error: unknown) =>
            error instanceof PersonalDataConfigError && /SLUICE_PERSONAL_DATA_KEY\) is not the one/.test(error.message),
        );
        await assert.rejects(
          createEventStore(fresh),
          (error: unknown) => error instanceof PersonalDataConfigError && /which is not set/.test(error.message),
        );
        await assert.rejects(
          createEventStore(fresh, { personalData: { masterKey: randomBytes(16) } }),
          PersonalDataConfigError,
        );
        // The right key, again: everything reads.
        const again = await createEventStore(fresh, { personalData: { masterKey: Buffer.from(key) } });
        assert.equal((await firstOrderEvent(again, org, orderId)).consignee, "Jane Roe");
      } finally {
        await fresh.close();
      }
    });

    test("a database that generated its own master key refuses another from the environment", async () => {
      const fresh = await backend.open();
      try {
        await createEventStore(fresh);
        await assert.rejects(
          createEventStore(fresh, { personalData: { masterKey: randomBytes(32) } }),
          PersonalDataConfigError,
        );
        // Its own key is there to be used, by every process on it.
        await createEventStore(fresh);
      } finally {
        await fresh.close();
      }
    });
  });
}

test("a master key from the environment is 32 bytes of base64, and the error does not repeat it", () => {
  const key = randomBytes(32).toString("base64");
  assert.equal(parseMasterKey(key).length, 32);
  assert.equal(parseMasterKey(`${key}\n`).length, 32);
  for (const bad of ["", "not base64!", randomBytes(16).toString("base64"), randomBytes(33).toString("base64")]) {
    assert.throws(
      () => parseMasterKey(bad),
      (error: unknown) => error instanceof PersonalDataConfigError && (bad === "" || !error.message.includes(bad)),
    );
  }
});

/** A database that outlives its connection: a PGlite data dir, or a schema on the server. */
async function reopenable(kind: "pglite" | "postgres"): Promise<{ open(): Promise<Database>; drop(): Promise<void> }> {
  if (kind === "pglite") {
    const dir = await mkdtemp(join(tmpdir(), "sluice-pd-"));
    return {
      open: () => openDatabase({ kind: "pglite", dataDir: dir }),
      drop: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const schema = `test_${randomBytes(6).toString("hex")}`;
  return {
    open: () => openDatabase({ kind: "postgres", url: postgresTestUrl, schema, maxConnections: 2 }),
    async drop() {
      const client = new pg.Client({ connectionString: postgresTestUrl });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

for (const backend of await testBackends()) {
  test(`keys and erasures survive a restart on ${backend.name}`, { skip: backend.skip }, async () => {
    const database = await reopenable(backend.name);
    try {
      const org = newId();
      const [erased, kept] = [newId(), newId()];
      // Embedded: the master key is generated on first start and kept in the database.
      const first = await database.open();
      const before = await createEventStore(first);
      await appendTo(before, org, erased, orderCreated(erased, "Jane Roe"));
      await appendTo(before, org, kept, orderCreated(kept, "John Poe"));
      await first.close();

      const second = await database.open();
      const during = await createEventStore(second);
      assert.equal((await firstOrderEvent(during, org, erased)).consignee, "Jane Roe");
      await during.erasePersonalData(org, erased);
      await second.close();

      const third = await database.open();
      try {
        const after = await createEventStore(third);
        assert.deepEqual(await firstOrderEvent(after, org, erased), { consignee: "", address: "", erased: true });
        assert.equal((await firstOrderEvent(after, org, kept)).consignee, "John Poe");
      } finally {
        await third.close();
      }
    } finally {
      await database.drop();
    }
  });
}
