import { create } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { OrderCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import type { RecordedEvent } from "@sluice/event-store";
import assert from "node:assert/strict";
import { test } from "node:test";
import { eventPublication } from "./publication";

test("an event becomes a publication: the event packed as Any, its metadata beside it", () => {
  const data = create(OrderCreatedSchema, { orderId: "o-1", projectId: "p-1", consignee: "Kaasboer", weightKg: 60 });
  const event: RecordedEvent = {
    eventId: "e-1",
    organizationId: "org-1",
    streamId: "order-o-1",
    streamType: "dispatch.order",
    streamVersion: 1n,
    globalPosition: 42n,
    transactionId: 7n,
    type: data.$typeName,
    data,
    metadata: { userId: "u-1", commandId: "c-1", correlationId: "r-1", traceparent: "00-abc-def-01" },
    occurredAt: new Date(1_700_000_000_000),
  };
  const publication = eventPublication(event);
  assert.equal(anyUnpack(publication.event!, OrderCreatedSchema)?.consignee, "Kaasboer");
  assert.equal(publication.metadata?.globalPosition, 42n);
  assert.equal(publication.metadata?.streamVersion, 1n);
  assert.equal(publication.metadata?.userId, "u-1");
  assert.equal(publication.metadata?.occurredAt, 1_700_000_000_000n);
  assert.equal(publication.metadata?.traceparent, "00-abc-def-01");
});
