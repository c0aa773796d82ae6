// The two event stores under test behind one small interface: append events to a stream at an
// exact expected version. Each store runs in a fresh database of its own, dropped on close.
import { randomUUID } from "node:crypto";
import { create, toJson } from "@bufbuild/protobuf";
import { CommandAcceptedSchema, StreamVersionSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { openDatabase } from "@sluice/database";
import { createEventStore, eventStoreMigrations } from "@sluice/event-store";
import { getPostgreSQLEventStore } from "@event-driven-io/emmett-postgresql";
import { createFreshDatabase, withSynchronousCommit, type FreshDatabase, type SynchronousCommit } from "./databases";

export type StoreName = "sluice" | "sluice-008" | "emmett";

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
 * batches in flight). "sluice-008" is the same store with append_commands as migration 008 made it
 * (before 009), put back in its own database after the migrations: before and after, in one run.
 */
export async function openSluice(
  commit: SynchronousCommit,
  name: "sluice" | "sluice-008" = "sluice",
): Promise<BenchStore> {
  const database = await createFreshDatabase(name === "sluice" ? "esbench_sluice" : "esbench_sluice008");
  const db = await openDatabase({ kind: "postgres", url: withSynchronousCommit(database.url, commit) });
  const store = await createEventStore(db);
  if (name === "sluice-008") await db.exec(appendCommandsOf008());
  return {
    name,
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

/** Migration 008's append_commands, as a statement that replaces the one in place. */
function appendCommandsOf008(): string {
  const sql = eventStoreMigrations.find((m) => m.id === "event-store/008-append-commands")?.sql;
  const start = sql?.indexOf("create function append_commands(") ?? -1;
  const end = sql?.indexOf("drop function append_batch(jsonb);") ?? -1;
  if (!sql || start < 0 || end < start) throw new Error("migration 008's append_commands not found");
  return sql.slice(start, end).replace("create function", "create or replace function");
}

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
