// Test helpers: ids, metadata and messages from the real contracts.
import { randomUUID } from "node:crypto";
import { create, toJson, type Message } from "@bufbuild/protobuf";
import { registry } from "@sluice/contracts";
import type { Queryable } from "@sluice/database";
import { appendCommands } from "../appendCommands";
import { CommandAcceptedSchema, StreamVersionSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema, OrderEditedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { startOfLog } from "../eventStore";
import type { AppendRequest, EventMetadata, EventStore, LogPosition, RecordedEvent } from "../types";

export const newId = (): string => randomUUID();

export function metadata(commandId = newId()): EventMetadata {
  return { userId: "user-1", commandId, correlationId: newId() };
}

export function orderCreated(orderId: string, consignee = "ACME") {
  return create(OrderCreatedSchema, { orderId, projectId: "p-1", consignee, address: "Main St 1", weightKg: 12.5 });
}

export function orderEdited(orderId: string, consignee: string) {
  return create(OrderEditedSchema, { orderId, projectId: "p-1", consignee, address: "Main St 1", weightKg: 12.5 });
}

export function accepted(streamId = "", version = 0n) {
  return create(CommandAcceptedSchema, { versions: [create(StreamVersionSchema, { streamId, version })] });
}

/** A command creating one order (a new stream) in the organization. */
export function newOrder(organizationId: string, streamId = newId()): AppendRequest {
  return {
    organizationId,
    metadata: metadata(),
    appends: [
      { streamId, streamType: "dispatch.order", expectedVersion: "no_stream", events: [orderCreated(streamId)] },
    ],
    result: accepted(),
  };
}

/** Every event of the log after `after`, in log order. */
export async function readEverything(store: EventStore, after: LogPosition = startOfLog): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for (;;) {
    const batch = await store.readAll({ after, limit: 50 });
    if (batch.length === 0) return all;
    all.push(...batch);
    const last = batch.at(-1)!;
    after = { transactionId: last.transactionId, globalPosition: last.globalPosition };
  }
}

/**
 * One organization's events in the log, read again until there are `count`: on a server, a
 * transaction open elsewhere (another test file) holds the log's readers back until it ends.
 */
export async function readOrganization(
  store: EventStore,
  organizationId: string,
  count: number,
  after: LogPosition = startOfLog,
): Promise<RecordedEvent[]> {
  for (;;) {
    const mine = (await readEverything(store, after)).filter((e) => e.organizationId === organizationId);
    if (mine.length >= count) return mine;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Appends an order's first event through `tx` alone, outside any store's group commit: a test holds
 * that transaction open to make a later append commit before it (commits out of order).
 */
export async function appendOrderCreatedIn(tx: Queryable, organizationId: string, orderId: string): Promise<void> {
  const outcome = await appendCommands(
    tx,
    [
      {
        organizationId,
        metadata: metadata(),
        appends: [
          {
            streamId: orderId,
            streamType: "dispatch.order",
            expectedVersion: "no_stream",
            events: [orderCreated(orderId)],
          },
        ],
        result: accepted(orderId, 1n),
      },
    ],
    (message: Message) => toJson(registry.getMessage(message.$typeName)!, message, { registry }),
  );
  // No new data keys are sent (the event is stored as given, unsealed), so none can be refused.
  const [result] = "results" in outcome ? outcome.results : [];
  if (result instanceof Error || result === undefined) throw result ?? new Error("no outcome");
}
