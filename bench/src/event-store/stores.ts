// The event stores under test behind one small interface: append events to a stream at an exact
// expected version. Each store runs in a fresh database of its own, dropped on close.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { create, toJson } from "@bufbuild/protobuf";
import { CommandAcceptedSchema, StreamVersionSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { migrate, openDatabase } from "@sluice/database";
import { createEventStore, eventStoreMigrations } from "@sluice/event-store";
import { getPostgreSQLEventStore } from "@event-driven-io/emmett-postgresql";
import { createFreshDatabase, withSynchronousCommit, type FreshDatabase, type SynchronousCommit } from "./databases";

export type StoreName = "sluice" | "sluice-before" | "emmett" | "floor";

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

/**
 * No event store: the rows an append writes (its command's result, the stream, the events) inserted
 * by one named statement through our driver and pool, on our tables, each append a durable commit
 * of its own. No lookup, no check, no sealing: what an append cannot go below on this machine from
 * Node, measured in the same run as the stores (pgbench gives the same floor from C).
 */
export async function openFloor(commit: SynchronousCommit): Promise<BenchStore> {
  const database = await createFreshDatabase("esbench_floor");
  const db = await openDatabase({ kind: "postgres", url: withSynchronousCommit(database.url, commit) });
  await migrate(db, eventStoreMigrations);
  return {
    name: "floor",
    database,
    async append(streamId, expectedVersion, count) {
      const data = toJson(OrderCreatedSchema, orderCreated(streamId));
      const result = { versions: [{ streamId, version: String(expectedVersion + BigInt(count)) }] };
      await db.query(
        `with r as (
           insert into command_results (organization_id, command_id, result_type, result)
           values ('org-bench', $1, 'dispatch.v1.CommandAccepted', $2::jsonb)
         ), s as (
           insert into event_streams (stream_id, organization_id, stream_type, version)
           values ($3, 'org-bench', 'dispatch.order', $4::bigint + $5::int)
           on conflict (stream_id) do update set version = excluded.version
         )
         insert into events (organization_id, stream_id, stream_type, stream_version, type, data, metadata)
         select 'org-bench', $3, 'dispatch.order', $4::bigint + n, 'dispatch.v1.OrderCreated', $6::jsonb, $7::jsonb
         from generate_series(1, $5::int) n
         returning global_position, event_id`,
        [
          randomUUID(),
          JSON.stringify(result),
          streamId,
          expectedVersion.toString(),
          count,
          JSON.stringify(data),
          JSON.stringify(metadata()),
        ],
        { name: "bench_floor_append" },
      );
    },
    async close() {
      await db.close();
      await database.drop();
    },
  };
}

/**
 * The store called `name`, in a fresh database; "sluice-before" needs `beforeTree` (see
 * `openSluice`).
 */
export function openStore(name: StoreName, commit: SynchronousCommit, beforeTree?: string): Promise<BenchStore> {
  switch (name) {
    case "sluice":
      return openSluice(commit);
    case "sluice-before":
      if (beforeTree === undefined)
        throw new Error("--stores sluice-before needs --before-tree <copy of an earlier commit>");
      return openSluice(commit, beforeTree);
    case "emmett":
      return openEmmett(commit);
    case "floor":
      return openFloor(commit);
  }
}

/** The names a store option may give. */
export const knownStores: readonly StoreName[] = ["sluice", "sluice-before", "emmett", "floor"];

/** The stores in the order repetition `rep` (from 1) runs them: each repetition starts with another. */
export const storesInTurn = (rep: number, names: readonly StoreName[]): StoreName[] =>
  names.map((_, i) => names[(i + rep - 1) % names.length]!);
