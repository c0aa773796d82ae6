// The two event stores under test behind one small interface: append events to a stream at an
// exact expected version. Each store runs in a fresh database of its own, dropped on close.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { create, toJson } from "@bufbuild/protobuf";
import { CommandAcceptedSchema, StreamVersionSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { openDatabase } from "@sluice/database";
import { createEventStore } from "@sluice/event-store";
import { getPostgreSQLEventStore } from "@event-driven-io/emmett-postgresql";
import { createFreshDatabase, withSynchronousCommit, type FreshDatabase, type SynchronousCommit } from "./databases";

export type StoreName = "sluice" | "sluice-before" | "emmett";

export interface BenchStore {
  readonly name: StoreName;
  readonly database: FreshDatabase;
  /** Appends `count` events to `streamId`, which must be at `expectedVersion` (0 for a new stream). */
  append(streamId: string, expectedVersion: bigint, count: number): Promise<void>;
  close(): Promise<void>;
}

/** The payload both stores write: a Dispatch order as created, ~150 bytes of JSON. */
export function orderCreated(orderId: string) {
  return create(OrderCreatedSchema, {
    orderId,
    projectId: "p-1",
    consignee: "ACME Logistics",
    address: "Main St 1, Springfield",
    weightKg: 12.5,
  });
}

/** What both stores record as the event's metadata: who and which command. */
const metadata = () => ({ userId: "user-1", commandId: randomUUID(), correlationId: randomUUID() });

/**
 * Our store: createEventStore over openDatabase, defaults as the server uses them (group commit, 4
 * batches in flight). "sluice-before" is the same store as an earlier commit has it, in this
 * process: `openDatabase` and `createEventStore` imported from `beforeTree`, a copy of the
 * repository at that commit with its own node_modules (whose @sluice links point into the copy),
 * so before and after run in one run, in the same repetitions and under the same load.
 */
export async function openSluice(commit: SynchronousCommit, beforeTree?: string): Promise<BenchStore> {
  const database = await createFreshDatabase(beforeTree === undefined ? "esbench_sluice" : "esbench_before");
  const code =
    beforeTree === undefined
      ? { openDatabase, createEventStore }
      : {
          openDatabase: ((await import(source(beforeTree, "database"))) as { openDatabase: typeof openDatabase })
            .openDatabase,
          createEventStore: (
            (await import(source(beforeTree, "event-store"))) as { createEventStore: typeof createEventStore }
          ).createEventStore,
        };
  const db = await code.openDatabase({ kind: "postgres", url: withSynchronousCommit(database.url, commit) });
  const store = await code.createEventStore(db);
  return {
    name: beforeTree === undefined ? "sluice" : "sluice-before",
    database,
    async append(streamId, expectedVersion, count) {
      await store.append({
        organizationId: "org-bench",
        metadata: metadata(),
        appends: [
          {
            streamId,
            streamType: "dispatch.order",
            expectedVersion,
            events: Array.from({ length: count }, () => orderCreated(streamId)),
          },
        ],
        result: create(CommandAcceptedSchema, {
          versions: [create(StreamVersionSchema, { streamId, version: expectedVersion + BigInt(count) })],
        }),
      });
    },
    async close() {
      await db.close();
      await database.drop();
    },
  };
}

/** A package's entry point in another copy of the repository. */
const source = (tree: string, pkg: string) => pathToFileURL(join(tree, "packages", pkg, "src", "index.ts")).href;

/** Emmett's PostgreSQL event store with its defaults, schema migrated before measuring. */
export async function openEmmett(commit: SynchronousCommit): Promise<BenchStore> {
  const database = await createFreshDatabase("esbench_emmett");
  const store = getPostgreSQLEventStore(withSynchronousCommit(database.url, commit));
  await store.schema.migrate();
  return {
    name: "emmett",
    database,
    async append(streamId, expectedVersion, count) {
      // The same JSON our store writes for the Protobuf message (proto3 JSON mapping).
      const data = toJson(OrderCreatedSchema, orderCreated(streamId)) as Record<string, unknown>;
      await store.appendToStream(
        // Emmett takes the stream type from the name's prefix: "order".
        `order-${streamId}`,
        Array.from({ length: count }, () => ({ type: "OrderCreated", data, metadata: metadata() })),
        { expectedStreamVersion: expectedVersion },
      );
    },
    async close() {
      await store.close();
      await database.drop();
    },
  };
}
