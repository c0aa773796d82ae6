import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isMessage, type Message } from "@bufbuild/protobuf";
import { OrderCreatedSchema, OrderEditedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import type { Database } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import { ErrorCode, RpcError } from "@sluice/rpc";
import { createEventStore } from "../eventStore";
import { accepted, metadata, newId, orderCreated, orderEdited } from "../testing/fixtures";
import type { EventStore } from "../types";
import { createAggregateCache } from "./aggregateCache";
import { aggregateStream } from "./aggregateStream";
import type { Decider } from "./decider";
import { handleCommand } from "./handleCommand";

interface Order {
  readonly exists: boolean;
  readonly consignee: string;
}

const order: Decider<Order> = {
  streamType: "dispatch.order",
  initialState: () => ({ exists: false, consignee: "" }),
  evolve(state, event: Message) {
    if (isMessage(event, OrderCreatedSchema)) return { exists: true, consignee: event.consignee };
    if (isMessage(event, OrderEditedSchema)) return { ...state, consignee: event.consignee };
    return state;
  },
};

/** Holds a command between its load and its append; `loaded` is told once it has loaded. */
interface Hold {
  readonly loaded: () => void;
  readonly until: Promise<void>;
}

/**
 * A hold, and what the test needs around it: another writer goes once the held command has loaded
 * (`hasLoaded`), so the held one surely decides on the older version, then `release` lets it append.
 */
function holdPoint(): { hold: Hold; hasLoaded: Promise<void>; release: () => void } {
  let release!: () => void;
  let loaded!: () => void;
  const until = new Promise<void>((resolve) => (release = resolve));
  const hasLoaded = new Promise<void>((resolve) => (loaded = resolve));
  return { hold: { loaded, until }, hasLoaded, release };
}

for (const backend of await testBackends()) {
  describe(`handleCommand on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;
    let store: EventStore;
    before(async () => {
      db = await backend.open();
      store = await createEventStore(db);
    });
    after(() => db?.close());

    /** Renames an order: fails when it does not exist, appends against the version it loaded. */
    const rename = (organizationId: string, orderId: string, consignee: string, commandId = newId(), hold?: Hold) =>
      handleCommand(store, { organizationId, metadata: metadata(commandId) }, async (load) => {
        const { state, version } = await load(order, orderId);
        if (!state.exists) throw RpcError.notFound("order");
        if (hold) {
          hold.loaded();
          await hold.until;
        }
        return {
          appends: [{ streamId: orderId, events: [orderEdited(orderId, consignee)] }],
          result: accepted(orderId, version + 1n),
        };
      });

    const createOrder = (organizationId: string, orderId: string) =>
      handleCommand(store, { organizationId, metadata: metadata() }, async (load) => {
        const { state } = await load(order, orderId);
        if (state.exists) throw RpcError.ruleBroken("order.exists", "exists");
        return {
          appends: [{ streamId: orderId, events: [orderCreated(orderId, "ACME")] }],
          result: accepted(orderId, 1n),
        };
      });

    test("snapshots: taken as a long stream passes each multiple of `every`, and loading starts from the latest", async () => {
      // Counts the events it folded, so the test sees where a load started.
      interface Counted extends Order {
        readonly folded: number;
      }
      const counted: Decider<Counted> = {
        streamType: "dispatch.order",
        initialState: () => ({ ...order.initialState(), folded: 0 }),
        evolve: (state, event) => ({ ...order.evolve(state, event), folded: state.folded + 1 }),
        snapshot: { every: 10, version: 1 },
      };
      const org = newId();
      const orderId = newId();
      const renameCounted = (consignee: string) =>
        handleCommand(store, { organizationId: org, metadata: metadata() }, async (load) => {
          const { state } = await load(counted, orderId);
          return {
            appends: [
              {
                streamId: orderId,
                events: state.exists ? [orderEdited(orderId, consignee)] : [orderCreated(orderId, consignee)],
              },
            ],
            result: accepted(orderId),
          };
        });
      for (let i = 0; i < 25; i++) await renameCounted(`name ${i}`);
      const snapshot = await store.readSnapshot(org, orderId);
      assert.equal(snapshot?.streamVersion, 20n);
      assert.deepEqual(snapshot?.state, { exists: true, consignee: "name 19", folded: 20 });
      // Another organization sees no snapshot of the stream.
      assert.equal(await store.readSnapshot(newId(), orderId), undefined);

      const fromZero = await aggregateStream(store, org, orderId, { ...counted, snapshot: undefined });
      assert.deepEqual(fromZero.state, { exists: true, consignee: "name 24", folded: 25 });
      assert.deepEqual(await aggregateStream(store, org, orderId, counted), fromZero);
      // Loading starts from the snapshot's state: one marked as having folded 1,000 events at
      // version 24 gives 1,001 after the one event read after it.
      await store.saveSnapshot(org, {
        streamId: orderId,
        streamVersion: 24n,
        snapshotVersion: 1,
        state: { exists: true, consignee: "marker", folded: 1000 },
      });
      const loaded = await aggregateStream(store, org, orderId, counted);
      assert.deepEqual(loaded, { state: { exists: true, consignee: "name 24", folded: 1001 }, version: 25n });

      // A snapshot of another version (State's shape changed) is ignored, never misread.
      await store.saveSnapshot(org, {
        streamId: orderId,
        streamVersion: 24n,
        snapshotVersion: 0,
        state: { bogus: true },
      });
      const bumped = await aggregateStream(store, org, orderId, { ...counted, snapshot: { every: 10, version: 2 } });
      assert.deepEqual(bumped.state, fromZero.state);
      // An older snapshot never replaces a newer one.
      await store.saveSnapshot(org, { streamId: orderId, streamVersion: 10n, snapshotVersion: 1, state: {} });
      assert.equal((await store.readSnapshot(org, orderId))?.streamVersion, 24n);
    });

    test("loads, decides and appends with the loaded version; aggregateStream folds the result", async () => {
      const org = newId();
      const orderId = newId();
      assert.deepEqual(await createOrder(org, orderId), accepted(orderId, 1n));
      assert.deepEqual(await rename(org, orderId, "Globex"), accepted(orderId, 2n));
      assert.deepEqual(await aggregateStream(store, org, orderId, order), {
        state: { exists: true, consignee: "Globex" },
        version: 2n,
      });
      // Another organization sees no such order.
      assert.deepEqual(await aggregateStream(store, newId(), orderId, order), {
        state: order.initialState(),
        version: 0n,
      });
      await assert.rejects(
        rename(newId(), orderId, "Initech"),
        (e: unknown) => e instanceof RpcError && e.code === ErrorCode.NOT_FOUND,
      );
    });

    test("a stream changed between load and append is a CONFLICT, and nothing is appended", async () => {
      const org = newId();
      const orderId = newId();
      await createOrder(org, orderId);
      const { hold, hasLoaded, release } = holdPoint();
      const slow = rename(org, orderId, "slow", newId(), hold);
      await hasLoaded;
      await rename(org, orderId, "fast");
      release();
      await assert.rejects(slow, (e: unknown) => e instanceof RpcError && e.code === ErrorCode.CONFLICT);
      assert.deepEqual(await aggregateStream(store, org, orderId, order), {
        state: { exists: true, consignee: "fast" },
        version: 2n,
      });
    });

    test("with conflictRetries, a command that lost the race decides again on the new state", async () => {
      const org = newId();
      const orderId = newId();
      await createOrder(org, orderId);
      const { hold, hasLoaded, release } = holdPoint();
      const versionsSeen: bigint[] = [];
      const slow = handleCommand(
        store,
        { organizationId: org, metadata: metadata() },
        async (load) => {
          const { version } = await load(order, orderId);
          versionsSeen.push(version);
          hold.loaded();
          await hold.until;
          return {
            appends: [{ streamId: orderId, events: [orderEdited(orderId, "slow")] }],
            result: accepted(orderId, version + 1n),
          };
        },
        { conflictRetries: 1 },
      );
      await hasLoaded;
      await rename(org, orderId, "fast");
      release();
      assert.deepEqual(await slow, accepted(orderId, 3n));
      assert.deepEqual(versionsSeen, [1n, 2n]);
      assert.deepEqual(await aggregateStream(store, org, orderId, order), {
        state: { exists: true, consignee: "slow" },
        version: 3n,
      });
    });

    test("a command id handled already returns the stored result and appends nothing", async () => {
      const org = newId();
      const orderId = newId();
      await createOrder(org, orderId);
      const commandId = newId();
      const first = await rename(org, orderId, "Globex", commandId);
      let ran = false;
      const retry = await handleCommand(store, { organizationId: org, metadata: metadata(commandId) }, async () => {
        ran = true;
        return {
          appends: [
            {
              streamId: orderId,
              streamType: "dispatch.order",
              expectedVersion: "any",
              events: [orderEdited(orderId, "again")],
            },
          ],
          result: accepted("other"),
        };
      });
      // The stored result is not looked up before deciding: the append refuses the handled id.
      assert.equal(ran, true);
      assert.deepEqual(retry, first);
      assert.equal((await store.readStream(org, orderId)).version, 2n);
    });

    test("a retry after success whose decision would now be refused returns the original result", async () => {
      const org = newId();
      const orderId = newId();
      const commandId = newId();
      const create = () =>
        handleCommand(store, { organizationId: org, metadata: metadata(commandId) }, async (load) => {
          const { state } = await load(order, orderId);
          if (state.exists) throw RpcError.ruleBroken("order.exists", "exists");
          return {
            appends: [{ streamId: orderId, events: [orderCreated(orderId, "ACME")] }],
            result: accepted(orderId, 1n),
          };
        });
      const first = await create();
      assert.deepEqual(await create(), first);
      assert.equal((await store.readStream(org, orderId)).version, 1n);
      // The same rule under a new command id is refused: only a handled id finds a result.
      await assert.rejects(createOrder(org, orderId), (e: unknown) => e instanceof RpcError);
      const refusedId = newId();
      const refused = () =>
        handleCommand(store, { organizationId: org, metadata: metadata(refusedId) }, async () => {
          throw RpcError.notFound("order");
        });
      await assert.rejects(refused(), (e: unknown) => e instanceof RpcError && e.code === ErrorCode.NOT_FOUND);
    });

    test("concurrent retries of one command: one appends, all get its result", async () => {
      const org = newId();
      const orderId = newId();
      await createOrder(org, orderId);
      const commandId = newId();
      let release!: () => void;
      const barrier = new Promise<void>((resolve) => (release = resolve));
      let decided = 0;
      const racer = (consignee: string) =>
        handleCommand(store, { organizationId: org, metadata: metadata(commandId) }, async (load) => {
          const { version } = await load(order, orderId);
          if (++decided === 2) release();
          await barrier; // both have passed the stored-result check and decided before either appends
          return {
            appends: [{ streamId: orderId, events: [orderEdited(orderId, consignee)] }],
            result: accepted(consignee, version + 1n),
          };
        });
      const results = await Promise.all([racer("one"), racer("two")]);
      assert.equal(decided, 2);
      assert.deepEqual(results[0], results[1]);
      const stream = await store.readStream(org, orderId);
      assert.equal(stream.version, 2n);
      const winner = stream.events[1]!.data;
      assert.ok(isMessage(winner, OrderEditedSchema));
      assert.equal(
        winner.consignee,
        results[0]!.versions[0]!.streamId,
        "the result returned is the one whose events were appended",
      );
    });

    test("with a cache, an entry made stale by another writer costs a fresh run, not a wrong decision", async () => {
      const org = newId();
      const orderId = newId();
      const cache = createAggregateCache();
      let reads = 0;
      const rename = (consignee: string) =>
        handleCommand(
          store,
          { organizationId: org, metadata: metadata() },
          async (load) => {
            reads += 1;
            const { state, version } = await load(order, orderId);
            if (!state.exists) throw RpcError.notFound("order");
            return {
              appends: [{ streamId: orderId, events: [orderEdited(orderId, consignee)] }],
              result: accepted(consignee, version + 1n),
            };
          },
          { cache },
        );
      await createOrder(org, orderId);
      assert.deepEqual(await rename("one"), accepted("one", 2n)); // read, then kept with the append
      assert.deepEqual(cache.get(org, orderId, order), { state: { exists: true, consignee: "one" }, version: 2n });
      // Another process appends: the entry is stale, the append conflicts, the run is repeated on fresh reads.
      await store.append({
        organizationId: org,
        metadata: metadata(),
        appends: [
          {
            streamId: orderId,
            streamType: "dispatch.order",
            expectedVersion: 2n,
            events: [orderEdited(orderId, "other")],
          },
        ],
        result: accepted(),
      });
      reads = 0;
      assert.deepEqual(await rename("two"), accepted("two", 4n));
      assert.equal(reads, 2);
      // A rule judged on a stale entry is judged again: the order the entry says is missing exists.
      const other = newId();
      cache.set(org, other, order, { state: order.initialState(), version: 0n });
      await handleCommand(store, { organizationId: org, metadata: metadata() }, async (load) => {
        await load(order, other);
        return { appends: [{ streamId: other, events: [orderCreated(other, "ACME")] }], result: accepted() };
      });
      cache.set(org, other, order, { state: order.initialState(), version: 0n });
      const renamed = await handleCommand(
        store,
        { organizationId: org, metadata: metadata() },
        async (load) => {
          const { state, version } = await load(order, other);
          if (!state.exists) throw RpcError.notFound("order");
          return {
            appends: [{ streamId: other, events: [orderEdited(other, "x")] }],
            result: accepted(other, version + 1n),
          };
        },
        { cache },
      );
      assert.deepEqual(renamed, accepted(other, 2n));
    });

    test("a stream loaded as minted reads as empty without a read, and the append still refuses one that exists", async () => {
      const org = newId();
      const orderId = newId();
      const create = () =>
        handleCommand(store, { organizationId: org, metadata: metadata() }, async (load) => {
          const { state, version } = await load(order, orderId, { minted: true });
          assert.deepEqual({ state, version }, { state: order.initialState(), version: 0n });
          return {
            appends: [{ streamId: orderId, events: [orderCreated(orderId, "ACME")] }],
            result: accepted(orderId, 1n),
          };
        });
      await create();
      await assert.rejects(create(), (e: unknown) => e instanceof RpcError && e.code === ErrorCode.CONFLICT);
      assert.equal((await store.readStream(org, orderId)).version, 1n);
    });

    test("an append to a stream that was not loaded needs its type and expected version", async () => {
      const org = newId();
      const [a, b] = [newId(), newId()];
      await assert.rejects(
        handleCommand(store, { organizationId: org, metadata: metadata() }, async () => ({
          appends: [{ streamId: a, events: [orderCreated(a)] }],
          result: accepted(),
        })),
        /load the stream first/,
      );
      await handleCommand(store, { organizationId: org, metadata: metadata() }, async () => ({
        appends: [
          { streamId: b, streamType: "dispatch.order", expectedVersion: "no_stream", events: [orderCreated(b)] },
        ],
        result: accepted(),
      }));
      assert.equal((await store.readStream(org, b)).version, 1n);
    });
  });
}
