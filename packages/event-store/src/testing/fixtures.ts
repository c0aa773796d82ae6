// Test helpers: ids, metadata and messages from the real contracts.
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { CommandAcceptedSchema, StreamVersionSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema, OrderEditedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import type { EventMetadata } from "../types";

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
